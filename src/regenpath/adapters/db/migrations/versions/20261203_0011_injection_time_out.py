"""The procedure-room time-out kept with the injection record (SITE-1, issue 19): who led it,
when, and each item confirmed. Records made before it have none (NULL).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("injection_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_out", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("injection_records", schema=None) as batch_op:
        batch_op.drop_column("time_out")
