"""The organizer's dashboard, drill-down lists, daily report and change feed."""
