"""MRNs unique per clinic as compared, case and spaces aside (ID-1, issue 19): "new-0001" and
"NEW-0001" had been two patients while the bedside check read them as one.

Adds ``patients.mrn_key`` (the MRN without spaces, upper case), fills it in, and makes it
unique per clinic. Records whose keys collide are reported, one warning line each, for the
clinic to merge or correct: the first registered keeps the key; each later one gets its key
with ``#<n>`` appended, so no record is lost or changed and the constraint can hold.

The rule is written out here rather than imported: a migration that has landed never changes.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _key(mrn: str) -> str:
    return "".join(mrn.split()).upper()


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mrn_key", sa.String(length=80), nullable=True))
    connection = op.get_bind()
    patients = sa.table(
        "patients",
        sa.column("id", sa.Uuid()),
        sa.column("clinic_id", sa.Uuid()),
        sa.column("mrn", sa.String()),
        sa.column("mrn_key", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = connection.execute(
        sa.select(patients.c.id, patients.c.clinic_id, patients.c.mrn).order_by(
            patients.c.created_at, patients.c.id
        )
    ).all()
    taken: dict[tuple[object, str], int] = {}
    for patient_id, clinic_id, mrn in rows:
        key = _key(mrn)
        seen = taken.get((clinic_id, key), 0)
        taken[(clinic_id, key)] = seen + 1
        stored = key if seen == 0 else f"{key}#{seen + 1}"
        if seen:
            log.warning(
                "patients: MRN %r of patient %s is the same number as an earlier patient's of"
                " clinic %s (case or spaces aside): kept as %r for the clinic to merge or"
                " correct",
                mrn,
                patient_id,
                clinic_id,
                stored,
            )
        connection.execute(
            patients.update().where(patients.c.id == patient_id).values(mrn_key=stored)
        )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.alter_column("mrn_key", existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint("uq_patients_clinic_id_mrn_key", ["clinic_id", "mrn_key"])


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_constraint("uq_patients_clinic_id_mrn_key", type_="unique")
        batch_op.drop_column("mrn_key")
