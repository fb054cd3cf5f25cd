"""phone_e164: every recipient phone also in E.164 (+8613812345678), parsed
with phonenumbers; recipient_phone keeps the national display form

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision: str = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_phone_e164", sa.String(length=16), nullable=True))
    # stored phones are already checked: parse them again for their E.164 form
    # (one that no longer parses stays NULL and is shown as stored)
    from credential_track.domain.recipient import FieldError, parse_phone, phone_region

    conn = op.get_bind()
    credential = sa.table("credential", sa.column("id", sa.Integer), sa.column("recipient_phone", sa.String),
                          sa.column("province", sa.String), sa.column("recipient_phone_e164", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(credential.c.id, credential.c.recipient_phone, credential.c.province)
                            .where(credential.c.id > last).order_by(credential.c.id).limit(BATCH)).all()
        if not rows:
            break
        updates = []
        for cid, phone, province in rows:
            try:
                updates.append({"cid": cid, "e164": parse_phone(phone, region=phone_region(province)).e164})
            except FieldError:
                pass
        if updates:
            conn.execute(credential.update().where(credential.c.id == sa.bindparam("cid"))
                         .values(recipient_phone_e164=sa.bindparam("e164")), updates)
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_column("recipient_phone_e164")
