"""Registry scale (issue 5): a synthetic registry of a million episodes, generated with numpy
and written as a Parquet snapshot, "in about a minute"; then the outcome report over it.

Prints the seconds for each and the generation's ratio to the 60 s the issue names.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from regenpath.adapters.analytics import OutcomeData, write_snapshot
from regenpath.services.demo_registry import RegistryClinic, generate_registry
from regenpath.services.outcomes import outcome_report

EPISODES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
AIM_SECONDS = 60.0
AS_OF = date(2026, 11, 21)


def main() -> None:
    clinics = [RegistryClinic(f"{n:032x}", f"Clinic {n}") for n in range(1, 6)]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        written = write_snapshot(generate_registry(EPISODES, clinics, AS_OF), Path(folder))
        generated = time.perf_counter() - started
        source = OutcomeData.snapshot(Path(folder))
        started = time.perf_counter()
        report = outcome_report(source, AS_OF)
        reported = time.perf_counter() - started
        source.close()
    print(
        f"registry of {written['flow']:,} episodes ({written['cohort']:,} treated,"
        f" {written['visits']:,} time points, {written['events']:,} adverse events)"
    )
    print(
        f"generated and written in {generated:.1f} s: {generated / AIM_SECONDS:.2f} x the 60 s aim"
    )
    print(f"outcome report over {report.n_cohort:,} treated in {reported:.1f} s")


if __name__ == "__main__":
    main()
