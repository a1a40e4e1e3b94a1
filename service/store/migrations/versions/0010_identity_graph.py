"""identity graph: customer records' match keys, the identity decision log, rescore marks, and
today's duplicate customers merged by the same rules (service/store/identity_migration.py)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.types
from service.store.identity_migration import merge_duplicates

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_links") as batch_op:
        batch_op.add_column(sa.Column("match_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("match_phone", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_crm_links_match_email", ["match_email"], unique=False)
        batch_op.create_index("ix_crm_links_match_phone", ["match_phone"], unique=False)
    op.create_table(
        "identity_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("previous_customer_id", sa.String(length=32), nullable=True),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("crm_object", sa.String(length=64), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", service.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_identity_decisions_record", "identity_decisions", ["connection", "crm_object", "crm_id"]
    )
    op.create_index("ix_identity_decisions_customer_id", "identity_decisions", ["customer_id"])
    op.create_index(
        "ix_identity_decisions_previous_customer_id",
        "identity_decisions",
        ["previous_customer_id"],
    )
    op.create_table(
        "rescore_marks",
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("marked_at", service.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection", "customer_id"),
    )
    merge_duplicates(op.get_bind())


def downgrade() -> None:
    # Merged persons stay merged (their records and history moved; nothing tells them apart).
    op.drop_table("rescore_marks")
    op.drop_index("ix_identity_decisions_previous_customer_id", table_name="identity_decisions")
    op.drop_index("ix_identity_decisions_customer_id", table_name="identity_decisions")
    op.drop_index("ix_identity_decisions_record", table_name="identity_decisions")
    op.drop_table("identity_decisions")
    with op.batch_alter_table("crm_links") as batch_op:
        batch_op.drop_index("ix_crm_links_match_phone")
        batch_op.drop_index("ix_crm_links_match_email")
        batch_op.drop_column("match_phone")
        batch_op.drop_column("match_email")
