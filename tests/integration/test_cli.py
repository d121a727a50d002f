"""The ``regenpath`` command as a user runs it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from regenpath.adapters.db import migrate
from regenpath.bootstrap import Application, bootstrap
from regenpath.config import Settings
from regenpath.domain.access import Role
from regenpath.domain.pathway import Stage
from regenpath.services import clinics, episodes
from regenpath.services.demo import seed_demo
from regenpath.services.ports import EpisodeQuery
from tests.integration.conftest import FAST_HASHER
from tests.processes import environment


def regenpath(
    *args: str, database: Path | str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process; ``settings`` become REGENPATH_* variables."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    env = environment(url, **settings)
    return subprocess.run(
        [sys.executable, "-m", "regenpath.entrypoints.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = regenpath("db", "upgrade", database=tmp_path / "x.db")
    assert result.returncode == 0, result.stderr
    assert f"revision {migrate.head_revision()}" in result.stdout


def test_the_demo_fills_an_empty_database_and_refuses_a_full_one(
    application: Application, database_url: str, tmp_path: Path
) -> None:
    registry = tmp_path / "registry"
    first = regenpath(
        "demo", "--patients", "30", "--as-of", "2026-06-30", "--episodes", "2500",
        "--registry", str(registry), database=database_url,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "30 patients in 2 clinics" in first.stdout
    assert "Registry of 2,500 episodes" in first.stdout
    report = regenpath(
        "report", "--snapshot", str(registry), "--format", "json", "--as-of", "2026-06-30",
        database=database_url,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert len(json.loads(report.stdout)["strata"]["clinic"]) == 5  # 2 demo, 3 partners
    assert len(summary_of(application)) == 30
    again = regenpath("demo", "--patients", "30", database=database_url)
    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0
    assert again.stderr.startswith("error: the database already holds patients")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("demo", "--patients", "abc"), "error: Invalid value for '--patients'"),
        (("demo", "--as-of", "2026-13-01"), "error: --as-of: '2026-13-01' is not a date"),
        (("demo", "--bogus"), "error: No such option: --bogus"),
        (("nosuch",), "error: No such command 'nosuch'"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path: Path, args, message) -> None:
    result = regenpath(*args, database=tmp_path / "x.db")
    assert result.returncode != 0
    assert result.stderr.startswith(message)
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_a_clinic_is_created_with_the_phone_its_patients_call(tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    assert regenpath("db", "upgrade", database=database).returncode == 0
    created = regenpath(
        "clinic", "create", "Lakeside", "--time-zone", "America/Chicago", "--phone", "+1 555 0100",
        database=database,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    application = bootstrap(Settings(database_url=f"sqlite:///{database}"))
    try:
        [clinic] = clinics.list_clinics(application.unit_of_work())
    finally:
        application.dispose()
    assert (clinic.name, clinic.phone) == ("Lakeside", "+1 555 0100")
    too_long = regenpath("clinic", "create", "X", "--phone", "1" * 41, database=database)
    assert too_long.returncode != 0 and too_long.stderr.startswith("error: phone:")


def test_reset_refuses_to_touch_a_postgresql_database(tmp_path: Path) -> None:
    result = regenpath("demo", "--reset", database="postgresql://nobody@127.0.0.1:9/none")
    assert result.returncode == 1
    assert result.stderr.startswith("error: --reset only deletes an SQLite file")


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = regenpath("db", "upgrade", database="postgresql://nobody@127.0.0.1:9/none")
    assert result.returncode == 1
    assert result.stderr.startswith("error: database:")
    assert result.stderr.strip().count("\n") == 0


def summary_of(application: Application) -> list[tuple[str, str, str]]:
    page = episodes.list_episodes(
        application.unit_of_work(), application.clock, EpisodeQuery(limit=200)
    )
    return sorted((s.patient_mrn, s.patient_name, s.episode.stage.value) for s in page.items)


def test_the_demo_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    dumps = []
    for name in ("a.db", "b.db"):
        application = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / name}"))
        migrate.upgrade(application.engine)
        seed_demo(
            application.unit_of_work(),
            seed=11,
            patient_count=25,
            as_of=date(2026, 6, 30),
            lab_settings=application.lab,
            ruleset=application.ruleset,
            ae_catalogue=application.ae_catalogue,
            hasher=FAST_HASHER,
        )
        dumps.append(summary_of(application))
        application.dispose()
    assert dumps[0] == dumps[1]
    assert len(dumps[0]) == 25


def test_the_demo_spreads_patients_over_every_stage_on_each_database(
    application: Application,
) -> None:
    summary = seed_demo(
        application.unit_of_work(),
        seed=7,
        patient_count=200,
        as_of=date(2026, 6, 30),
        lab_settings=application.lab,
        ruleset=application.ruleset,
        ae_catalogue=application.ae_catalogue,
        hasher=application.hasher,
    )
    assert summary.patients == 200
    assert summary.recall_tasks > 0
    assert summary.overdue_reports == 1  # the dashboard has one overdue report to show
    assert len(summary.users) == 2 * len(Role)
    # The injection record moves the cycle straight on to recovery: none rests in administered.
    assert set(summary.by_stage) == set(Stage) - {Stage.ADMINISTERED}
    counts = episodes.count_by_stage(application.unit_of_work())
    assert counts == {stage: summary.by_stage.get(stage, 0) for stage in Stage}


def test_fhir_export_then_import_into_an_empty_database(tmp_path: Path) -> None:
    source, target, folder = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "fhir"
    demo = regenpath("demo", "--patients", "10", "--as-of", "2026-06-30", database=source)
    assert demo.returncode == 0, demo.stderr
    exported = regenpath(
        "export", "fhir", str(folder), "--clinic", "Riverside Spine & Joint Clinic",
        database=source,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "Patient.ndjson: " in exported.stdout
    files = sorted(str(p) for p in folder.glob("*.ndjson"))
    assert regenpath("db", "upgrade", database=target).returncode == 0
    imported = regenpath("import", "fhir", *files, database=target)
    assert imported.returncode == 0, imported.stderr
    assert "Organization.ndjson: 1 added" in imported.stdout
    assert "resources/s" in imported.stdout
    again = regenpath("import", "fhir", *files, database=target)
    assert " 0 added, 0 changed" in again.stdout
    broken = tmp_path / "Observation.ndjson"
    broken.write_text('{"resourceType": "Observation", "id": "x", "status": "final"}\n')
    refused = regenpath("import", "fhir", str(broken), database=target)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ")
    assert "nothing of it was imported" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
