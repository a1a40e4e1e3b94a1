"""churn models trained on each connection's outcomes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "churn_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("trained_at", service.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("in_use", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=True),
        sa.Column("survival", sa.JSON(), nullable=True),
        sa.Column("model", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("churn_models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_churn_models_connection_time", ["connection", "trained_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("churn_models", schema=None) as batch_op:
        batch_op.drop_index("ix_churn_models_connection_time")
    op.drop_table("churn_models")
