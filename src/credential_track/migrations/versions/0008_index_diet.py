"""index diet: drop the credential indexes another index already answers; index only the events that have a bag

Every index on `credential` is paid by every insert and by every status change
a scan makes; every index on `event` by every event. docs/SCHEMA.md lists each
index that stays and the query that needs it.

* ix_credential_status: the prefix of ix_credential_status_route and of
  ix_credential_status_updated answers `status = ?` as well;
* ix_dash_credential_status_updated (status, updated_at): the prefix of
  ix_credential_status_updated (status, updated_at, hold, revoked);
* ix_dash_credential_revoked (id) WHERE revoked: ix_credential_revoked_status
  (status) WHERE revoked holds the same rows, and their ids;
* ix_credential_credential_type: five types over the whole table; no query
  filters by type alone (the item lists scan in id order with it as one
  condition among others);
* ix_event_bag_id: most events (imports, captures, deliveries, desk actions)
  have no bag; `bag_id = ?` implies `bag_id IS NOT NULL`, so the partial
  index answers every query that used the full one (services/stations.py);
* ix_event_trip_id: no query reads events by trip (a trip's bags are found
  through bag.trip_id).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision: str = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DROPPED = ("ix_credential_status", "ix_dash_credential_status_updated", "ix_dash_credential_revoked",
           "ix_credential_credential_type")


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="credential")
    op.drop_index("ix_event_trip_id", table_name="event")
    op.drop_index("ix_event_bag_id", table_name="event")
    op.create_index("ix_event_bag_id", "event", ["bag_id"], unique=False,
                    sqlite_where=sa.text("bag_id IS NOT NULL"), postgresql_where=sa.text("bag_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_event_bag_id", table_name="event")
    op.create_index("ix_event_bag_id", "event", ["bag_id"], unique=False)
    op.create_index("ix_event_trip_id", "event", ["trip_id"], unique=False)
    op.create_index("ix_credential_status", "credential", ["status"], unique=False)
    op.create_index("ix_dash_credential_status_updated", "credential", ["status", "updated_at"], unique=False)
    op.create_index("ix_dash_credential_revoked", "credential", ["id"], unique=False,
                    sqlite_where=sa.text("revoked = 1"), postgresql_where=sa.text("revoked"))
    op.create_index("ix_credential_credential_type", "credential", ["credential_type"], unique=False)
