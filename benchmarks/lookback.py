"""Lookback at registry scale (issue 4): a donor whose 1,000 products went to 1,000 patients,
traced through the service (one SQL query plus its audit entry), on SQLite and PostgreSQL.

Prints the median of 20 warm traces per database and its ratio to the 100 ms aim.
PostgreSQL is used when REGENPATH_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test)
answers; its tables are emptied first, so point it at a scratch database.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from regenpath.adapters.db import migrate
from regenpath.adapters.db.lab_tables import DonorRow
from regenpath.adapters.db.tables import (
    ClinicRow,
    EpisodeRow,
    PatientRow,
    ProductRow,
    TreatmentCycleRow,
)
from regenpath.bootstrap import bootstrap
from regenpath.config import Settings
from regenpath.services import lookback
from regenpath.services.ports import AccessScope

PRODUCTS = 1_000
AIM_MS = 100.0
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def seed(application) -> uuid.UUID:  # type: ignore[no-untyped-def]
    clinic, donor = uuid.uuid4(), uuid.uuid4()
    patients = [uuid.uuid4() for _ in range(PRODUCTS)]
    episodes = [uuid.uuid4() for _ in range(PRODUCTS)]
    products = [uuid.uuid4() for _ in range(PRODUCTS)]
    with application.engine.begin() as connection:
        connection.execute(
            insert(ClinicRow),
            [{"id": clinic, "name": "Bench", "time_zone": "UTC", "created_at": NOW}],
        )
        connection.execute(
            insert(DonorRow),
            [
                {
                    "id": donor,
                    "clinic_id": clinic,
                    "code": "DNR-BENCH",
                    "tissue": "umbilical_cord",
                    "living": False,
                    "recovered_at": NOW - timedelta(days=30),
                    "screening": "no_risk_factors",
                    "created_at": NOW,
                    "eligibility": "eligible",
                    "version": 1,
                }
            ],
        )
        connection.execute(
            insert(PatientRow),
            [
                {
                    "id": p,
                    "clinic_id": clinic,
                    "mrn": f"B-{n:06d}",
                    "family_name": f"Bench{n}",
                    "given_name": "Pat",
                    "birth_date": date(1960, 1, 1),
                    "sex": "female",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "version": 1,
                }
                for n, p in enumerate(patients)
            ],
        )
        connection.execute(
            insert(EpisodeRow),
            [
                {
                    "id": e,
                    "clinic_id": clinic,
                    "patient_id": p,
                    "condition_code": "M17.11",
                    "condition_text": "Knee OA",
                    "target_site": "Knee",
                    "laterality": "right",
                    "stage": "recovery",
                    "opened_at": NOW,
                    "stage_changed_at": NOW,
                    "version": 1,
                }
                for e, p in zip(episodes, patients, strict=True)
            ],
        )
        connection.execute(
            insert(ProductRow),
            [
                {
                    "id": pr,
                    "clinic_id": clinic,
                    "source": "allogeneic",
                    "status": "administered",
                    "donor_eligibility": "eligible",
                    "intended_patient_id": p,
                    "collected_at": NOW - timedelta(days=30),
                    "expires_at": NOW + timedelta(days=900),
                    "administered_at": NOW,
                    "version": 1,
                    "din": f"W9999{26:02d}{n + 1:06d}",
                    "product_type": "umbilical_cord_msc",
                    "donor_id": donor,
                    "lot_number": "LOT-B",
                }
                for n, (pr, p) in enumerate(zip(products, patients, strict=True))
            ],
        )
        connection.execute(
            insert(TreatmentCycleRow),
            [
                {
                    "id": uuid.uuid4(),
                    "clinic_id": clinic,
                    "episode_id": e,
                    "number": 1,
                    "cell_source": "allogeneic",
                    "stage": "recovery",
                    "planned_at": NOW,
                    "product_id": pr,
                    "administered_at": NOW,
                }
                for e, pr in zip(episodes, products, strict=True)
            ],
        )
    return donor


def measure(url: str) -> float:
    application = bootstrap(Settings(database_url=url))
    try:
        if url.startswith("postgresql"):
            with application.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(application.engine)
        donor = seed(application)
        times = []
        for _ in range(22):
            uow = application.unit_of_work(AccessScope(actor="benchmark"))
            start = time.perf_counter()
            trace = lookback.trace_donor(uow, application.clock, donor)
            times.append((time.perf_counter() - start) * 1000)
            assert len(trace.rows) == PRODUCTS and len(trace.recipients) == PRODUCTS
        return statistics.median(times[2:])
    finally:
        application.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        results = {"SQLite": measure(f"sqlite:///{Path(folder) / 'bench.db'}")}
    pg = os.environ.get("REGENPATH_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        results["PostgreSQL"] = measure(pg)
    except Exception as error:
        print(
            f"PostgreSQL skipped: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr
        )
    for name, ms in results.items():
        print(
            f"lookback {PRODUCTS} products -> {PRODUCTS} recipients on {name}: "
            f"{ms:.1f} ms (median of 20) = {ms / AIM_MS:.2f} x the {AIM_MS:.0f} ms aim"
        )


if __name__ == "__main__":
    main()
