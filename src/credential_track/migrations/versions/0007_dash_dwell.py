"""dash_dwell: time items spent in each status past the stations, for the forecast; refold the summaries

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SUMMARIES = ("dash_flow", "dash_items", "dash_batch", "dash_daily", "dash_lead_time")


def upgrade() -> None:
    op.create_table(
        "dash_dwell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "route", "status", "hours", name="uq_dash_dwell"),
    )
    with op.batch_alter_table("dash_dwell", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dash_dwell_day"), ["day"], unique=False)
    # the events folded before this table existed are folded again (the next
    # dashboard view or `credtrack dashboard refresh`), so that it holds them too
    for table in SUMMARIES:
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM dash_state WHERE key = 'events'")


def downgrade() -> None:
    with op.batch_alter_table("dash_dwell", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dash_dwell_day"))
    op.drop_table("dash_dwell")
