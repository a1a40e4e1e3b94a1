"""suppression list in its own table (keyed hashes), install keys, customers.phone, finished
deliveries without a next attempt

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 13:40:00

The old suppression entries (`audit_log` rows of operation `suppress`, plain SHA-256 of
connection and CRM id) move to `suppressions` with scheme `sha256`: still matched, and rewritten
under the HMAC key when matched (service/store/suppression.py). A downgrade moves `sha256` entries
back; keyed ones cannot be turned back into plain hashes and are lost with the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("crm_object", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", service.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connection", "key", name="uq_suppressions_key"),
    )
    op.create_table(
        "install_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", service.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_customers_phone"), ["phone"], unique=False)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "next_attempt_at",
            existing_type=service.store.types.UtcDateTime(timezone=True),
            nullable=True,
        )
    op.execute("UPDATE webhook_deliveries SET next_attempt_at = NULL WHERE state <> 'pending'")
    # One entry per (connection, key): the old list was checked before each insert, but two
    # erasures racing could have written a key twice.
    op.execute(
        "INSERT INTO suppressions (connection, key, scheme, crm_object, job_id, created_at) "
        "SELECT connection, crm_id, 'sha256', MIN(crm_object), MIN(job_id), MIN(at) "
        "FROM audit_log WHERE operation = 'suppress' AND crm_id IS NOT NULL "
        "GROUP BY connection, crm_id"
    )
    op.execute("DELETE FROM audit_log WHERE operation = 'suppress'")


def downgrade() -> None:
    op.execute(
        "INSERT INTO audit_log (at, connection, operation, crm_object, crm_id, fields, outcome, "
        "job_id, detail) SELECT created_at, connection, 'suppress', crm_object, key, '[]', 'ok', "
        "job_id, 'an erased customer''s CRM record: the pull skips it' "
        "FROM suppressions WHERE scheme = 'sha256'"
    )
    op.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = created_at WHERE next_attempt_at IS NULL"
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "next_attempt_at",
            existing_type=service.store.types.UtcDateTime(timezone=True),
            nullable=False,
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_phone"))
        batch_op.drop_column("phone")
    op.drop_table("install_keys")
    op.drop_table("suppressions")
