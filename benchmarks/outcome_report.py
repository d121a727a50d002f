"""The outcome report at registry scale (issue 5): 1,000,000 episodes (about 10 million PROM
values), the full report (every time point and definition three ways, completeness, the
Kaplan-Meier of durability, every stratum at the reference time point) from DuckDB, beside
a plain pandas + lifelines implementation of the same numbers in the same run.

Prints both warm times (best of three after one warm-up), their ratio, and whether the
numbers agree. The aim the issue names: at most 1 s warm, at least 5x the baseline.

Then the report on the live SQLite database (issue 18): the way it reads the file now (a
private copy taken by the application's own SQLite, loaded into DuckDB) beside the way it
did before (DuckDB's SQLite scanner attached to the live file, which corrupted it under a
server), on the same demo database, as a ratio.
Usage: python benchmarks/outcome_report.py [episodes] [--live-only] [--patients N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from regenpath.adapters import analytics
from regenpath.adapters.analytics import STRATA, OutcomeData, write_snapshot
from regenpath.domain.followup import DAYS_PER_MONTH
from regenpath.domain.responders import DEFINITIONS, KOOS_SUBSCALES
from regenpath.services.demo_registry import RegistryClinic, generate_registry
from regenpath.services.outcomes import OutcomeReport, outcome_report

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
EPISODES = int(ARGS[0]) if ARGS else 1_000_000
LIVE_ONLY = "--live-only" in sys.argv
LIVE_PATIENTS = int(sys.argv[sys.argv.index("--patients") + 1]) if "--patients" in sys.argv else 400
AS_OF = date(2026, 11, 21)
BASELINE_OF = {"pain": "baseline_pain", "odi": "baseline_odi"}


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    work()  # warm-up: files read, caches filled
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def baseline(cohort: pd.DataFrame, visits: pd.DataFrame) -> dict[str, Any]:
    """The same figures with pandas and lifelines, written the plain way."""
    v = visits.merge(cohort, on="episode_id")
    v["due"] = v["closes_on"] < pd.Timestamp(AS_OF)
    points = {}
    for sequence, at in v.groupby("sequence"):
        row: dict[str, Any] = {"due": int(at["due"].sum()),
                               "completed": int((at["due"] & at["completed"]).sum())}  # fmt: skip
        for d in DEFINITIONS:
            if d.score not in BASELINE_OF:
                continue
            b, f = at[BASELINE_OF[d.score]], at[d.score]
            answered = at["due"] & at["completed"] & f.notna()
            evaluable = answered & b.notna() & ((b > 0) if d.rule == "percent" else True)
            change = b - f
            met = (
                (100 * change >= d.threshold * b - 1e-9)
                if d.rule == "percent"
                else (change >= d.threshold - 1e-9)
            )
            row[d.code] = (int(answered.sum()), int(evaluable.sum()), int((evaluable & met).sum()))
        points[int(sequence)] = row
    # Durability: the first response, the first later visit without it, else the last one
    # while still responding.
    assessed = v[v["completed"] & v["pain"].notna()].copy()
    b = assessed["baseline_pain"]
    assessed["r"] = (b > 0) & (100 * (b - assessed["pain"]) >= 30 * b - 1e-9)
    first = assessed[assessed["r"]].groupby("episode_id")["day"].min().rename("first")
    a = assessed.join(first, on="episode_id", how="inner")
    lost = a[~a["r"] & (a["day"] > a["first"])].groupby("episode_id")["day"].min().rename("lost")
    a = a.join(lost, on="episode_id")
    still = a[(a["day"] >= a["first"]) & (a["lost"].isna() | (a["day"] < a["lost"]))]
    last = still.groupby("episode_id")["day"].max()
    durations = lost.reindex(first.index).fillna(last.reindex(first.index))
    events = lost.reindex(first.index).notna()
    km = KaplanMeierFitter().fit(durations, events)
    # Every stratum at 12 months.
    at_year = v[v["sequence"] == 5]
    b = at_year["baseline_pain"]
    responds = (
        at_year["due"]
        & at_year["completed"]
        & (b > 0)
        & (100 * (b - at_year["pain"]) >= 30 * b - 1e-9)
    )
    strata = {
        (name, str(value)): (int(group["due"].sum()), int(responds[group.index].sum()))
        for name in STRATA
        for value, group in at_year.groupby(name)
    }
    return {
        "points": points,
        "km_median": km.median_survival_time_,
        "km_events": int(events.sum()),
        "responders": len(durations),
        "strata": strata,
    }


def ours(report: OutcomeReport) -> dict[str, Any]:
    points = {}
    for t in report.time_points:
        row: dict[str, Any] = {"due": t.n_due, "completed": t.n_completed}
        for a in t.responders:
            answered = a.n_evaluable + a.n_not_evaluable
            row[a.definition.code] = (answered, a.n_evaluable, a.responders)
        points[t.sequence] = row
    median = report.durability.median_months
    return {
        "points": points,
        "responders": report.durability.n_responders,
        "km_events": report.durability.n_lost,
        "km_median_months": median,
        "strata": {(r.stratum, r.value): (r.n_due, r.worst_case.k) for r in report.by_stratum},
    }


def attached_live_file(path: Path) -> OutcomeData:
    """The way the report read a live SQLite file before issue 18, kept here only as the
    baseline: DuckDB's own SQLite attached to the file (unsafe beside a server)."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    analytics._load_extension(connection, "sqlite_scanner")
    connection.execute(f"ATTACH '{path}' AS live (TYPE sqlite, READ_ONLY)")
    connection.execute("CREATE SCHEMA src")
    for table in analytics.SOURCE_TABLES:
        connection.execute(f"CREATE VIEW src.{table} AS SELECT * FROM live.main.{table}")
    connection.execute(
        analytics._RELATIONS_SQL.replace("{age_bands}", analytics._age_band_sql()).replace(
            "{koos_columns}", analytics._koos_sql()
        )
    )
    return OutcomeData(connection)


def live_sqlite() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "live.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGENPATH_")}
        env["REGENPATH_DATABASE_URL"] = f"sqlite:///{path}"
        regenpath = str(Path(sys.executable).parent / "regenpath")
        subprocess.run(
            [regenpath, "demo", "--patients", str(LIVE_PATIENTS)],
            env=env,
            check=True,
            capture_output=True,
        )
        today = datetime.now(UTC).date()

        def report_with(open_source: Callable[[], OutcomeData]) -> Any:
            source = open_source()
            try:
                return outcome_report(source, today)
            finally:
                source.close()

        now, mine = best_of(5, lambda: report_with(lambda: OutcomeData.live(f"sqlite:///{path}")))
        before, theirs = best_of(5, lambda: report_with(lambda: attached_live_file(path)))
        size = path.stat().st_size
    same = ours(mine) == ours(theirs)
    print(
        f"live SQLite ({LIVE_PATIENTS} demo patients, {size / 1e6:.1f} MB file), the full report"
        f" opened and computed per request: private copy {now * 1000:.0f} ms,"
        f" scanner on the live file (before) {before * 1000:.0f} ms;"
        f" ratio {now / before:.2f}x the old cost; same numbers {same}"
    )


def main() -> None:
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not LIVE_ONLY:
        registry()
    live_sqlite()


def registry() -> None:
    clinics = [RegistryClinic(f"{n:032x}", f"Clinic {n}") for n in range(1, 6)]
    with tempfile.TemporaryDirectory() as folder:
        written = write_snapshot(generate_registry(EPISODES, clinics, AS_OF), Path(folder))
        prom_values = 0
        source = OutcomeData.snapshot(Path(folder))
        scores = ("pain", "leg_pain", "odi", "rmdq", *(f"koos_{k}" for k in KOOS_SUBSCALES))
        for score in scores:
            found = source.connection.execute(f"SELECT count({score}) FROM visits").fetchone()
            prom_values += int(found[0]) if found else 0
        fast, report = best_of(3, lambda: outcome_report(source, AS_OF))
        # The baseline's input, loaded once and not timed: the same relations as DataFrames.
        cohort = source.connection.execute("SELECT * FROM cohort").df()
        visits = source.connection.execute("SELECT * FROM visits").df()
        slow, reference = best_of(3, lambda: baseline(cohort, visits))
        source.close()
    mine = ours(report)
    same_points = all(
        mine["points"][seq][key] == value
        for seq, row in reference["points"].items()
        for key, value in row.items()
    )
    same_km = (mine["responders"], mine["km_events"]) == (
        reference["responders"],
        reference["km_events"],
    )
    reference_median = reference["km_median"]
    months = None if np.isinf(reference_median) else round(reference_median / DAYS_PER_MONTH, 1)
    same_median = months == mine["km_median_months"]
    same_strata = mine["strata"] == reference["strata"]
    print(
        f"registry: {written['flow']:,} episodes, {written['cohort']:,} treated,"
        f" {written['visits']:,} time points, {prom_values:,} PROM values"
    )
    print(f"regenpath (DuckDB): {fast:.2f} s warm   pandas + lifelines: {slow:.2f} s warm")
    verdict = "met" if fast <= 1 else "not met"
    print(f"ratio: {slow / fast:.1f}x faster (aim 5x); aim of 1 s warm: {verdict}")
    print(
        f"same numbers: time points {same_points}, durability counts {same_km},"
        f" median {same_median}, strata {same_strata}"
    )


if __name__ == "__main__":
    main()
