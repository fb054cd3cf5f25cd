"""personal_search: a partial index for counting a user's searches by phone or name in the last hour

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00
"""
from alembic import op
import sqlalchemy as sa


revision: str = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_WHERE = sa.text("action = 'personal_search'")


def upgrade() -> None:
    # only the personal_search rows: no cost for the scans and other events
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_personal_search", ["user_id", "at"], unique=False,
                              sqlite_where=_WHERE, postgresql_where=_WHERE)


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_personal_search", sqlite_where=_WHERE, postgresql_where=_WHERE)
