"""FHIR R4 (issue 6): resources that came in through the FHIR facade, kept as validated JSON,
and the Bulk Data export jobs with their NDJSON files.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_export_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("clinic_ids", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_url", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_export_jobs")),
    )
    op.create_table(
        "fhir_export_files",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["fhir_export_jobs.id"],
            name=op.f("fk_fhir_export_files_job_id_fhir_export_jobs"),
        ),
        sa.PrimaryKeyConstraint("job_id", "resource_type", name=op.f("pk_fhir_export_files")),
    )
    op.create_table(
        "fhir_resources",
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_fhir_resources_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_fhir_resources_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("resource_type", "resource_id", name=op.f("pk_fhir_resources")),
    )
    with op.batch_alter_table("fhir_resources", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_resources_clinic_type", ["clinic_id", "resource_type"], unique=False
        )
        batch_op.create_index(
            "ix_fhir_resources_patient_type", ["patient_id", "resource_type"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fhir_resources", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_resources_patient_type")
        batch_op.drop_index("ix_fhir_resources_clinic_type")

    op.drop_table("fhir_resources")
    op.drop_table("fhir_export_files")
    op.drop_table("fhir_export_jobs")
