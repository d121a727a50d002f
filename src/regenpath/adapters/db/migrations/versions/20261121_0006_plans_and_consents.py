"""Treatment plans (one row per version) and signed consents (issue 7).

A consent binds to the SHA-256 of the document its plan version generated; a later plan
version no longer matches it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 07:57:37.457261
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "treatment_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_treatment_plans_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_treatment_plans_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_plans")),
    )
    with op.batch_alter_table("treatment_plans", schema=None) as batch_op:
        batch_op.create_index(
            "uq_treatment_plans_episode_id_version", ["episode_id", "version"], unique=True
        )

    op.create_table(
        "consents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("template_version", sa.String(length=40), nullable=False),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("witnessed_by", sa.String(length=200), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_consents_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_consents_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["treatment_plans.id"], name=op.f("fk_consents_plan_id_treatment_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_episode_id"), ["episode_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_episode_id"))

    op.drop_table("consents")
    with op.batch_alter_table("treatment_plans", schema=None) as batch_op:
        batch_op.drop_index("uq_treatment_plans_episode_id_version")

    op.drop_table("treatment_plans")
