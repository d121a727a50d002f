"""Safety: adverse events and the regulatory reports they and deviations make due (issue 9).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 08:19:28.090745
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("term_code", sa.String(length=40), nullable=False),
        sa.Column("onset_on", sa.Date(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("seriousness", sa.JSON(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "recovering",
                "recovered",
                "recovered_with_sequelae",
                "not_recovered",
                "fatal",
                "unknown",
                name="aeoutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "related_harvest",
            sa.Enum(
                "certain",
                "probable",
                "possible",
                "unlikely",
                "conditional",
                "unassessable",
                name="relatedness",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "related_product",
            sa.Enum(
                "certain",
                "probable",
                "possible",
                "unlikely",
                "conditional",
                "unassessable",
                name="relatedness",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "related_injection",
            sa.Enum(
                "certain",
                "probable",
                "possible",
                "unlikely",
                "conditional",
                "unassessable",
                name="relatedness",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("unexpected", sa.Boolean(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("staff", "patient", name="aesource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_adverse_events_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_adverse_events_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adverse_events_episode_id"), ["episode_id"], unique=False
        )

    op.create_table(
        "regulatory_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.String(length=20), nullable=False),
        sa.Column(
            "form",
            sa.Enum(
                "FDA 3500A",
                "FDA 3486",
                "IND safety report",
                name="reportform",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("discovered_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "submitted", name="reportstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_regulatory_reports_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_regulatory_reports_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulatory_reports")),
    )
    with op.batch_alter_table("regulatory_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_regulatory_reports_clinic_id"), ["clinic_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("regulatory_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regulatory_reports_clinic_id"))

    op.drop_table("regulatory_reports")
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_events_episode_id"))

    op.drop_table("adverse_events")
