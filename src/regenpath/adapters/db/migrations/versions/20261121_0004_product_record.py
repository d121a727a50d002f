"""The product record: DINs, donors, harvest and injection records, processing, QC, custody,
tasks and deviations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 06:41:20.386401
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "din_counters",
        sa.Column("facility", sa.String(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("facility", "year", name=op.f("pk_din_counters")),
    )
    op.create_table(
        "donors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "tissue",
            sa.Enum(
                "bone_marrow",
                "peripheral_blood",
                "cord_blood",
                "umbilical_cord",
                "placenta",
                "adipose",
                name="donortissue",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("living", sa.Boolean(), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "screening",
            sa.Enum(
                "not_done",
                "no_risk_factors",
                "risk_factor_found",
                name="screening",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "eligibility",
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
        sa.Column("determined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("determined_by", sa.String(length=200), nullable=True),
        sa.Column("determination_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_donors_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donors")),
    )
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.create_index("uq_donors_clinic_id_code", ["clinic_id", "code"], unique=True)

    op.create_table(
        "donor_test_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("donor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "test",
            sa.Enum(
                "hiv1_antibody",
                "hiv1_nat",
                "hiv2_antibody",
                "hbsag",
                "anti_hbc",
                "hcv_antibody",
                "hcv_nat",
                "treponema_pallidum",
                "htlv_i_ii",
                "cmv",
                "wnv_nat",
                name="donortest",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.Enum(
                "nonreactive",
                "reactive",
                "indeterminate",
                name="testresult",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("specimen_collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "specimen_source",
            sa.Enum("donor", "birth_mother", name="specimensource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("assay", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_donor_test_results_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_donor_test_results_donor_id_donors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor_test_results")),
    )
    with op.batch_alter_table("donor_test_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_donor_test_results_donor_id"), ["donor_id"], unique=False
        )

    op.create_table(
        "custody_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "collected",
                "handover",
                "received",
                "stored",
                "moved",
                "issued",
                "administered",
                "discarded",
                "returned",
                name="custodykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("from_party", sa.String(length=200), nullable=True),
        sa.Column("to_party", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_custody_events_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_custody_events_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_events")),
    )
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_custody_events_product_id", ["product_id", "occurred_at"], unique=False
        )

    op.create_table(
        "deviations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "bedside_mismatch",
                "unreleased_product_use_attempt",
                "positive_culture_after_release",
                "protocol",
                name="deviationkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("episode_id", sa.Uuid(), nullable=True),
        sa.Column("distributed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_deviations_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_deviations_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_deviations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_deviations_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviations")),
    )
    with op.batch_alter_table("deviations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deviations_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "harvest_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("bone_marrow", "adipose", name="harvestsource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "site",
            sa.Enum(
                "posterior_iliac_crest",
                "anterior_iliac_crest",
                "tibia",
                "abdomen",
                "flank",
                "thigh",
                "buttock",
                name="harvestsite",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "side",
            sa.Enum(
                "left", "right", "bilateral", "midline", name="side", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "method",
            sa.Enum(
                "syringe_lipoaspiration",
                "power_assisted_liposuction",
                "water_jet_assisted",
                name="adiposemethod",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "anaesthesia",
            sa.Enum(
                "local",
                "local_with_sedation",
                "general",
                name="anaesthesia",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("volume_ml", sa.Float(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("complications", sa.Text(), nullable=True),
        sa.Column("nsaids_stopped", sa.Boolean(), nullable=False),
        sa.Column("anticoagulants_reviewed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_harvest_records_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_harvest_records_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_harvest_records_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_records")),
        sa.UniqueConstraint("product_id", name=op.f("uq_harvest_records_product_id")),
    )
    with op.batch_alter_table("harvest_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_harvest_records_episode_id"), ["episode_id"], unique=False
        )

    op.create_table(
        "injection_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "guidance",
            sa.Enum(
                "ultrasound",
                "fluoroscopy",
                "ct",
                "landmark",
                name="guidance",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "approach",
            sa.Enum(
                "posterolateral_intradiscal",
                "transforaminal_epidural",
                "interlaminar_epidural",
                "facet_intra_articular",
                "sacroiliac_intra_articular",
                "knee_superolateral",
                "knee_anteromedial",
                "intra_articular_other",
                "peritendinous",
                "intraosseous",
                name="approach",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("image_references", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_injection_records_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_injection_records_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_injection_records_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_injection_records")),
        sa.UniqueConstraint("product_id", name=op.f("uq_injection_records_product_id")),
    )
    with op.batch_alter_table("injection_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_injection_records_episode_id"), ["episode_id"], unique=False
        )

    op.create_table(
        "processing_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "centrifugation",
                "concentration",
                "washing",
                "filtration",
                "microfragmentation",
                "enzymatic_digestion",
                "thawing",
                "dilution",
                "other",
                name="processingkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("performed_by", sa.String(length=200), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_processing_steps_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_processing_steps_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processing_steps")),
    )
    with op.batch_alter_table("processing_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processing_steps_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "qc_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "test",
            sa.Enum(
                "tnc_per_ml",
                "viability",
                "cd34",
                "platelets",
                "volume",
                "gram_stain",
                "sterility_culture",
                name="qctest",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum("negative", "positive", name="qcoutcome", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_qc_results_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_qc_results_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_results")),
    )
    with op.batch_alter_table("qc_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qc_results_product_id"), ["product_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("patient_recall", name="taskkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "done", name="taskstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_tasks_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_tasks_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_tasks_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_clinic_id_status", ["clinic_id", "status"], unique=False)

    with op.batch_alter_table("bedside_verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("second_verifier", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("scanned_din", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("mismatches", sa.JSON(), nullable=True))

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("din", sa.String(length=13), nullable=True))
        batch_op.add_column(sa.Column("product_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("volume_ml", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("donor_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("lot_number", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("processing_finished_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("disposition_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_products_donor_id"), ["donor_id"], unique=False)
        batch_op.create_index(
            "ix_products_intended_patient_id", ["intended_patient_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_products_donor_id_donors"), "donors", ["donor_id"], ["id"]
        )

    _backfill_product_identity()
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.alter_column("din", existing_type=sa.String(length=13), nullable=False)
        batch_op.alter_column("product_type", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_products_din"), ["din"])


def _backfill_product_identity() -> None:
    """Products stored before this revision get a DIN under the placeholder facility X0000
    (year of collection, then a running sequence) and a product type by their source. The
    DIN's check character is computed when printed, so only the 13 characters are stored."""
    connection = op.get_bind()
    products = sa.table(
        "products",
        sa.column("id", sa.Uuid()),
        sa.column("source", sa.String()),
        sa.column("collected_at", sa.DateTime(timezone=True)),
        sa.column("din", sa.String()),
        sa.column("product_type", sa.String()),
    )
    rows = connection.execute(
        sa.select(products.c.id, products.c.source, products.c.collected_at).order_by(
            products.c.collected_at, products.c.id
        )
    ).all()
    for sequence, (product_id, source, collected_at) in enumerate(rows, start=1):
        year = collected_at.year % 100 if collected_at is not None else 0
        connection.execute(
            products.update()
            .where(products.c.id == product_id)
            .values(
                din=f"X0000{year:02d}{sequence:06d}",
                product_type="bmac" if source == "autologous" else "umbilical_cord_msc",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_products_donor_id_donors"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_products_din"), type_="unique")
        batch_op.drop_index("ix_products_intended_patient_id")
        batch_op.drop_index(batch_op.f("ix_products_donor_id"))
        batch_op.drop_column("recalled_at")
        batch_op.drop_column("disposition_reason")
        batch_op.drop_column("processing_finished_at")
        batch_op.drop_column("lot_number")
        batch_op.drop_column("donor_id")
        batch_op.drop_column("volume_ml")
        batch_op.drop_column("product_type")
        batch_op.drop_column("din")

    with op.batch_alter_table("bedside_verifications", schema=None) as batch_op:
        batch_op.drop_column("mismatches")
        batch_op.drop_column("scanned_din")
        batch_op.drop_column("second_verifier")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_clinic_id_status")

    op.drop_table("tasks")
    with op.batch_alter_table("qc_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qc_results_product_id"))

    op.drop_table("qc_results")
    with op.batch_alter_table("processing_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processing_steps_product_id"))

    op.drop_table("processing_steps")
    with op.batch_alter_table("injection_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_injection_records_episode_id"))

    op.drop_table("injection_records")
    with op.batch_alter_table("harvest_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harvest_records_episode_id"))

    op.drop_table("harvest_records")
    with op.batch_alter_table("deviations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviations_clinic_id"))

    op.drop_table("deviations")
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_index("ix_custody_events_product_id")

    op.drop_table("custody_events")
    with op.batch_alter_table("donor_test_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_test_results_donor_id"))

    op.drop_table("donor_test_results")
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.drop_index("uq_donors_clinic_id_code")

    op.drop_table("donors")
    op.drop_table("din_counters")
