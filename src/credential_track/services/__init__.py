"""The service layer: the only place that changes state. Views, API and CLI
call these functions with plain values."""
