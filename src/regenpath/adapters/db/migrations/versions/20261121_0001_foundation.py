"""Foundation: clinics, patients, care episodes, treatment cycles, products, bedside checks.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:47:20.732083
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinics")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("mrn", sa.String(length=64), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum(
                "female",
                "male",
                "other",
                "unknown",
                name="administrativesex",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_patients_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("clinic_id", "mrn", name="uq_patients_clinic_id_mrn"),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patients_clinic_id_family_name", ["clinic_id", "family_name"], unique=False
        )

    op.create_table(
        "episodes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("condition_code", sa.String(length=10), nullable=False),
        sa.Column("condition_text", sa.String(length=200), nullable=False),
        sa.Column("target_site", sa.String(length=100), nullable=False),
        sa.Column(
            "laterality",
            sa.Enum(
                "left",
                "right",
                "bilateral",
                "not_applicable",
                name="laterality",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "stage",
            sa.Enum(
                "referred",
                "in_evaluation",
                "eligible",
                "ineligible",
                "consented",
                "planned",
                "harvested",
                "processed",
                "released",
                "product_allocated",
                "administered",
                "recovery",
                "follow_up",
                "completed",
                "withdrawn",
                "lost_to_follow_up",
                name="stage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_episodes_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_episodes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episodes")),
    )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_episodes_clinic_id_stage", ["clinic_id", "stage", "stage_changed_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_episodes_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("autologous", "allogeneic", name="cellsource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "in_processing",
                "quarantine",
                "released",
                "administered",
                "discarded",
                "expired",
                "recalled",
                name="productstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "donor_eligibility",
            sa.Enum(
                "not_required",
                "incomplete",
                "eligible",
                "ineligible",
                name="donoreligibility",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("intended_patient_id", sa.Uuid(), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_products_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["intended_patient_id"],
            ["patients.id"],
            name=op.f("fk_products_intended_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "bedside_verifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "two_person",
                "barcode_scan",
                name="verificationmethod",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_bedside_verifications_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_bedside_verifications_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_bedside_verifications_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bedside_verifications")),
    )
    with op.batch_alter_table("bedside_verifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bedside_verifications_product_id", ["product_id", "verified_at"], unique=False
        )

    op.create_table(
        "episode_transitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_stage",
            sa.Enum(
                "referred",
                "in_evaluation",
                "eligible",
                "ineligible",
                "consented",
                "planned",
                "harvested",
                "processed",
                "released",
                "product_allocated",
                "administered",
                "recovery",
                "follow_up",
                "completed",
                "withdrawn",
                "lost_to_follow_up",
                name="stage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_stage",
            sa.Enum(
                "referred",
                "in_evaluation",
                "eligible",
                "ineligible",
                "consented",
                "planned",
                "harvested",
                "processed",
                "released",
                "product_allocated",
                "administered",
                "recovery",
                "follow_up",
                "completed",
                "withdrawn",
                "lost_to_follow_up",
                name="stage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_episode_transitions_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_episode_transitions_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode_transitions")),
    )
    with op.batch_alter_table("episode_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_episode_transitions_episode_id", ["episode_id", "occurred_at"], unique=False
        )

    op.create_table(
        "treatment_cycles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "cell_source",
            sa.Enum("autologous", "allogeneic", name="cellsource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "stage",
            sa.Enum(
                "referred",
                "in_evaluation",
                "eligible",
                "ineligible",
                "consented",
                "planned",
                "harvested",
                "processed",
                "released",
                "product_allocated",
                "administered",
                "recovery",
                "follow_up",
                "completed",
                "withdrawn",
                "lost_to_follow_up",
                name="stage",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_treatment_cycles_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_treatment_cycles_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_treatment_cycles_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_cycles")),
        sa.UniqueConstraint("episode_id", "number", name="uq_cycles_episode_number"),
    )


def downgrade() -> None:
    op.drop_table("treatment_cycles")
    with op.batch_alter_table("episode_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_episode_transitions_episode_id")

    op.drop_table("episode_transitions")
    with op.batch_alter_table("bedside_verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_bedside_verifications_product_id")

    op.drop_table("bedside_verifications")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_clinic_id"))

    op.drop_table("products")
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_episodes_patient_id"))
        batch_op.drop_index("ix_episodes_clinic_id_stage")

    op.drop_table("episodes")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_clinic_id_family_name")

    op.drop_table("patients")
    op.drop_table("clinics")
