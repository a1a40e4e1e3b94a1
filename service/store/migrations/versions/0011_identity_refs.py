"""identity refs: the ids a customer record names in other systems (Customer.refs), which the
identity graph links records by (rule `ref`)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing records carry no refs (no shipped mapping had `refs.` before this release): the
    # table starts empty and fills as records are pulled again.
    op.create_table(
        "identity_refs",
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=False),
        sa.Column("ref_key", sa.String(length=160), nullable=False),
        sa.PrimaryKeyConstraint("connection", "crm_id", "ref_key"),
    )
    op.create_index("ix_identity_refs_record", "identity_refs", ["connection", "crm_id"])
    op.create_index("ix_identity_refs_ref_key", "identity_refs", ["ref_key"])


def downgrade() -> None:
    op.drop_index("ix_identity_refs_ref_key", table_name="identity_refs")
    op.drop_index("ix_identity_refs_record", table_name="identity_refs")
    op.drop_table("identity_refs")
