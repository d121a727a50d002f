"""FHIR Bulk Data import at scale (issue 6): 100,000 synthetic resources (10,000 Patients and
90,000 pain Observations, NDJSON) into PostgreSQL, validated with the R4B models, resolved and
written in batches; printed as resources per second against the 5,000/s aim.

Measured in the same run as the baseline: the same server taking resources one at a time
(the REST create path, one transaction per resource), on 1,000 Observations. Published
single-server figures for context (fhir.md section 4): HAPI users 100-400/s, Blaze 1.8-7.7k/s
on 8-24 cores.

PostgreSQL: REGENPATH_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test);
the benchmark works in a schema of its own, ``regenpath_bench_fhir``, dropped first.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from regenpath.adapters.db import migrate
from regenpath.bootstrap import bootstrap
from regenpath.config import Settings
from regenpath.services import clinics
from regenpath.services.ports import AccessScope

PATIENTS = 10_000
OBSERVATIONS_EACH = 9
SINGLE = 1_000
AIM = 5_000.0
SCHEMA = "regenpath_bench_fhir"


def database_url() -> str:
    base = make_url(
        os.environ.get("REGENPATH_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    ).set(drivername="postgresql+psycopg")
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    return base.update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(
        hide_password=False
    )


def observation(patient_id: str, n: int, when: datetime, value: int) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": f"{patient_id}-nrs-{n}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when.isoformat().replace("+00:00", "Z"),
        "valueQuantity": {
            "value": value,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        },
    }


def write_files(folder: Path, clinic_id: str) -> tuple[Path, Path]:
    rng = random.Random(6)
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    patients, observations = folder / "Patient.ndjson", folder / "Observation.ndjson"
    with patients.open("w") as p_file, observations.open("w") as o_file:
        for n in range(PATIENTS):
            patient_id = f"bench-{n:06d}"
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(20_000))
            patient = {
                "resourceType": "Patient",
                "id": patient_id,
                "identifier": [
                    {
                        "type": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                    "code": "MR",
                                }
                            ]
                        },
                        "value": f"BX-{n:06d}",
                    }
                ],
                "name": [{"family": f"Family{n % 997}", "given": [f"Given{n % 89}"]}],
                "gender": rng.choice(["female", "male"]),
                "birthDate": born.isoformat(),
                "address": [{"city": "Springfield", "country": "US"}],
                "managingOrganization": {"reference": f"Organization/{clinic_id}"},
            }
            p_file.write(json.dumps(patient) + "\n")
            for k in range(OBSERVATIONS_EACH):
                when = start + timedelta(days=rng.randrange(600), minutes=k)
                o_file.write(json.dumps(observation(patient_id, k, when, rng.randrange(11))) + "\n")
    return patients, observations


def main() -> None:
    url = database_url()
    application = bootstrap(Settings(database_url=url))
    try:
        migrate.upgrade(application.engine)
        clinic = clinics.create_clinic(
            application.unit_of_work(AccessScope(actor="benchmark")),
            application.clock,
            application.new_id,
            name="Bench Clinic",
            time_zone="UTC",
        )
        server = application.fhir
        with tempfile.TemporaryDirectory() as folder:
            files = write_files(Path(folder), str(clinic.id))
            total = PATIENTS * (1 + OBSERVATIONS_EACH)
            started = time.perf_counter()
            for path in files:
                with path.open() as handle:
                    server.import_resources(
                        application.unit_of_work(AccessScope(actor="benchmark")),
                        enumerate(handle, start=1),
                        clinic.id,
                        path.name,
                        workers=os.cpu_count() or 1,
                    )
            bulk_seconds = time.perf_counter() - started
        bulk_rate = total / bulk_seconds

        scope = AccessScope(clinic_ids=frozenset({clinic.id}), actor="benchmark")
        when = datetime(2026, 1, 1, tzinfo=UTC)
        started = time.perf_counter()
        for n in range(SINGLE):
            body = observation(f"bench-{n:06d}", 100, when, n % 11)
            del body["id"]
            server.create(application.unit_of_work(scope), "Observation", body)
        single_rate = SINGLE / (time.perf_counter() - started)
    finally:
        application.dispose()
    print(
        f"FHIR bulk import into PostgreSQL: {total:,} resources ({PATIENTS:,} Patient,"
        f" {total - PATIENTS:,} Observation) in {bulk_seconds:.1f} s = {bulk_rate:,.0f}"
        f" resources/s = {bulk_rate / AIM:.2f} x the {AIM:,.0f}/s aim"
    )
    print(
        f"baseline, one resource per transaction (REST create, {SINGLE:,} Observations):"
        f" {single_rate:,.0f}/s; the bulk path is {bulk_rate / single_rate:.1f} x faster"
    )


if __name__ == "__main__":
    main()
