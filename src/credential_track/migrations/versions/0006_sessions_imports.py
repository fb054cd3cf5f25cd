"""login sessions and throttling; imports written in short transactions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import credential_track.models.base

revision: str = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = credential_track.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", UTC, nullable=False),
        sa.Column("locked_until", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", "address", name="uq_login_throttle"),
    )
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("ended_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid_hash"),
    )
    op.create_index(op.f("ix_login_session_user_id"), "login_session", ["user_id"], unique=False)
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("batch_created", sa.Boolean(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("first_credential_id", sa.Integer(), nullable=False),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("heartbeat_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["handover_batch.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_import_run_batch_id"), "import_run", ["batch_id"], unique=False)
    op.create_index(op.f("ix_import_run_state"), "import_run", ["state"], unique=False)
    op.create_table(
        "import_undo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("old", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["credential_id"], ["credential.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["import_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_import_undo_run_id"), "import_undo", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_import_undo_run_id"), table_name="import_undo")
    op.drop_table("import_undo")
    op.drop_index(op.f("ix_import_run_state"), table_name="import_run")
    op.drop_index(op.f("ix_import_run_batch_id"), table_name="import_run")
    op.drop_table("import_run")
    op.drop_index(op.f("ix_login_session_user_id"), table_name="login_session")
    op.drop_table("login_session")
    op.drop_table("login_throttle")
