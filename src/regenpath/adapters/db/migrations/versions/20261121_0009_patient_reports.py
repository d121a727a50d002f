"""Patient reports from the portal and their triage (issue 9), the clinic's phone for the
portal, and triage tasks that name their report.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "concern",
            sa.Enum(
                "a_little",
                "quite_a_lot",
                "very_much",
                name="concernlevel",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column(
            "triage",
            sa.Enum(
                "awaiting",
                "adverse_event",
                "not_an_event",
                name="triageoutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("triaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triaged_by", sa.String(length=200), nullable=True),
        sa.Column("triage_note", sa.Text(), nullable=False),
        sa.Column("adverse_event_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adverse_event_id"],
            ["adverse_events.id"],
            name=op.f("fk_patient_reports_adverse_event_id_adverse_events"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_patient_reports_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_patient_reports_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_reports_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_reports")),
    )
    with op.batch_alter_table("patient_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_reports_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patient_reports_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_patient_reports_triage"), ["triage"], unique=False)

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_report_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_tasks_patient_report_id_patient_reports"),
            "patient_reports",
            ["patient_report_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tasks_patient_report_id_patient_reports"), type_="foreignkey"
        )
        batch_op.drop_column("patient_report_id")

    # Not in a batch: SQLite would copy the clinics table, which every other table refers to;
    # its own ALTER TABLE ... DROP COLUMN (3.35+) drops the column in place.
    op.drop_column("clinics", "phone")

    with op.batch_alter_table("patient_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_reports_triage"))
        batch_op.drop_index(batch_op.f("ix_patient_reports_patient_id"))
        batch_op.drop_index(batch_op.f("ix_patient_reports_clinic_id"))

    op.drop_table("patient_reports")
