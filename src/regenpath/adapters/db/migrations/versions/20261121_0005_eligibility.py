"""Eligibility: assessments (one row per version) and eligibility decisions (issue 7).

An assessment is a JSON document with its episode and version; a decision cites the assessment
version and the ruleset version it used, with its findings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 07:36:50.431459
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_assessments_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_assessments_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(
            "uq_assessments_episode_id_version", ["episode_id", "version"], unique=True
        )

    op.create_table(
        "eligibility_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_version", sa.Integer(), nullable=False),
        sa.Column("ruleset_version", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "evaluated",
                "accepted",
                "overridden",
                name="decisionkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "computed",
            sa.Enum(
                "eligible",
                "ineligible",
                "needs_review",
                name="verdict",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "final",
            sa.Enum(
                "eligible",
                "ineligible",
                "needs_review",
                name="verdict",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_eligibility_decisions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episodes.id"],
            name=op.f("fk_eligibility_decisions_episode_id_episodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_decisions")),
    )
    with op.batch_alter_table("eligibility_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eligibility_decisions_episode_id"), ["episode_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("eligibility_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_decisions_episode_id"))

    op.drop_table("eligibility_decisions")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("uq_assessments_episode_id_version")

    op.drop_table("assessments")
