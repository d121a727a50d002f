"""The embedded SQLite file under the processes the README runs on it: a served app, cron's
`regenpath worker --once` and any CLI command, each a real process on one real file.

Issue 18: DuckDB's SQLite scanner, attached to the live file inside the server, dropped the
server's POSIX locks when it closed (POSIX locks belong to the process, not to the library),
so the next other process to close the database deleted the -wal and -shm the server still
wrote to: its writes vanished for every other process and the file ended malformed.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from regenpath.adapters.db import migrate
from regenpath.bootstrap import bootstrap
from regenpath.config import Settings
from regenpath.domain.access import Role
from tests.integration.personas import make_clinic, make_user
from tests.integration.test_api_patients import born, new_patient
from tests.integration.test_prescreen import ANSWERS
from tests.processes import deleted_files_held, environment, run_cli, served

pytestmark = pytest.mark.xdist_group("processes")


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, dict[Role, str], str]:
    """A migrated file with a clinic and its staff: (url, tokens by role, clinic id)."""
    url = f"sqlite:///{tmp_path / 'regenpath.db'}"
    application = bootstrap(Settings(database_url=url))
    migrate.upgrade(application.engine)
    clinic = make_clinic(application, "Riverside Spine", "America/Chicago")
    tokens = {role: make_user(application, clinic, role) for role in Role}
    application.dispose()
    return url, tokens, clinic["id"]


def fresh_process_count(path: Path, sql: str) -> int:
    """What a process that never saw the server reads from the file."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
            " print(c.execute(sys.argv[2]).fetchone()[0])",
            str(path),
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout)


def test_the_file_stays_one_database_under_server_worker_and_cli(
    database: tuple[str, dict[Role, str], str],
) -> None:
    url, tokens, clinic_id = database
    path = Path(url.removeprefix("sqlite:///"))
    env = environment(url)
    with served(env) as (base, server):
        # An anonymous pre-screen and a report both read the outcome figures.
        assert httpx.post(f"{base}/pre-screen", data=ANSWERS, timeout=60).status_code == 200
        report = httpx.get(
            f"{base}/api/v1/reports/outcomes",
            headers={"Authorization": f"Bearer {tokens[Role.QUALITY_OFFICER]}"},
            timeout=60,
        )
        assert report.status_code == 200, report.text
        # cron's worker and a CLI read, each a process that opens and closes the database.
        run_cli("worker", "--once", env=env)
        run_cli("audit", "verify", env=env)
        # Writes through the server afterwards.
        created = []
        for n in range(3):
            response = httpx.post(
                f"{base}/api/v1/patients",
                json=new_patient(clinic_id, mrn=f"RS-90000{n}", birth_date=born(n)),
                headers={"Authorization": f"Bearer {tokens[Role.COORDINATOR]}"},
                timeout=60,
            )
            assert response.status_code == 201, response.text
            created.append(UUID(response.json()["id"]).hex)
        assert not [f for f in deleted_files_held(server.pid) if str(path) in f]
        # Every write is visible to a process that never saw the server.
        assert fresh_process_count(path, "SELECT count(*) FROM patients") == 3
        run_cli("worker", "--once", env=env)
        verified = run_cli("audit", "verify", env=env)
        assert "intact" in verified.stdout
    assert fresh_process_count(path, "SELECT count(*) FROM patients") == 3
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = connection.execute("SELECT count(*), max(sequence) FROM audit_events").fetchone()
        head = connection.execute("SELECT sequence FROM audit_chain_head").fetchone()
    assert rows[0] == rows[1] == head[0]
    assert run_cli("audit", "verify", env=env).returncode == 0


def test_the_report_reads_a_private_copy_never_the_live_file(
    database: tuple[str, dict[Role, str], str], tmp_path: Path
) -> None:
    """The copy analytics reads is one read transaction's view of the needed columns only:
    no name or MRN leaves the record system, and nothing is left behind in the temp folder."""
    from regenpath.adapters.analytics import SOURCE_COLUMNS, sqlite_private_copy

    url, _tokens, _clinic = database
    private = tmp_path / "copy.sqlite"
    sqlite_private_copy(Path(url.removeprefix("sqlite:///")), private, SOURCE_COLUMNS)
    with sqlite3.connect(private) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(patients)").fetchall()}
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert columns == {"id", "birth_date", "sex"}
    assert tables == set(SOURCE_COLUMNS)
