"""The production layout on PostgreSQL: several server processes and several workers on one
database, with requests and due reminders at the same time. Nothing is sent twice, no update
is lost, no task is opened twice. And on SQLite, the layouts it cannot serve are refused."""

from __future__ import annotations

import re
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.conftest import postgresql_schema
from tests.integration.test_api_patients import born, new_patient
from tests.processes import REGENPATH, environment, run_cli, scalar, served
from tests.smtp import smtp_server

pytestmark = pytest.mark.xdist_group("processes")


@pytest.fixture
def demo_database() -> Iterator[str]:
    """A schema of its own holding a small demo, whose follow-ups have reminders due."""
    with postgresql_schema("regenpath_layout") as url:
        env = environment(url)
        run_cli("db", "upgrade", env=env)
        run_cli("demo", "--patients", "40", env=env, timeout=300)
        yield url


def reminder_state(url: str) -> dict[str, tuple[int, int, int]]:
    """Per follow-up visit: (emails queued for it, tasks opened for it, rungs climbed)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT CAST(v.id AS TEXT),"
                    " (SELECT count(*) FROM outbox o WHERE o.visit_id = v.id),"
                    " (SELECT count(*) FROM tasks t WHERE t.visit_id = v.id),"
                    " v.reminders_sent FROM follow_up_visits v"
                )
            ).all()
    finally:
        engine.dispose()
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}


def test_two_servers_and_two_workers_on_one_postgresql(demo_database: str) -> None:
    url = demo_database
    token = run_cli("token", "create", "coordinator.riverside", env=environment(url))
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    before = reminder_state(url)
    patients_before = scalar(url, "SELECT count(*) FROM patients")
    with smtp_server() as (mailbox, smtp_port):
        env = environment(url, smtp_host="127.0.0.1", smtp_port=str(smtp_port))
        with served(env, "--workers", "2") as (first, _a), served(env) as (second, _b):
            listed = httpx.get(f"{first}/api/v1/patients", headers=headers, timeout=30).json()
            clinic_id = listed["items"][0]["clinic_id"]
            target = listed["items"][0]
            outcomes: list[int] = []
            created: list[int] = []

            def register(base: str, n: int) -> None:
                for k in range(5):
                    response = httpx.post(
                        f"{base}/api/v1/patients",
                        json=new_patient(
                            clinic_id, mrn=f"LAYOUT-{n}-{k}", birth_date=born(10 * n + k)
                        ),
                        headers=headers,
                        timeout=60,
                    )
                    created.append(response.status_code)

            def correct(base: str, n: int) -> None:
                response = httpx.patch(
                    f"{base}/api/v1/patients/{target['id']}",
                    json={"version": target["version"], "given_name": f"Corrected {n}"},
                    headers=headers,
                    timeout=60,
                )
                outcomes.append(response.status_code)

            threads = [
                threading.Thread(target=register, args=(base, n))
                for n, base in enumerate([first, second, first, second])
            ] + [
                threading.Thread(target=correct, args=(base, n))
                for n, base in enumerate([first, second] * 4)
            ]
            for thread in threads:
                thread.start()
            for _ in range(2):  # two rounds of two workers racing each other
                workers = [
                    subprocess.Popen(
                        [REGENPATH, "worker", "--once"],
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    for _ in range(2)
                ]
                for process in workers:
                    _out, error = process.communicate(timeout=300)
                    assert process.returncode == 0, error
            for thread in threads:
                thread.join(timeout=300)
        messages = list(mailbox.messages)
    # Every email went once: each outbox message has one Message-ID, seen once by the server.
    ids = Counter(m["Message-ID"] for m in messages)
    assert messages and max(ids.values()) == 1
    sent = scalar(url, "SELECT count(*) FROM outbox WHERE status = 'sent'")
    assert sent == len(messages)
    # Every rung climbed once: a visit got no more emails and tasks than rungs it climbed
    # (an email rung for a patient with no address on record is passed with neither).
    after = reminder_state(url)
    climbed = 0
    for visit, (emails, tasks, rungs) in after.items():
        old = before.get(visit, (0, 0, 0))
        assert (emails - old[0]) + (tasks - old[1]) <= rungs - old[2], visit
        climbed += rungs - old[2]
    assert climbed > 0
    duplicates = scalar(
        url,
        "SELECT count(*) FROM (SELECT visit_id, kind FROM tasks WHERE visit_id IS NOT NULL"
        " GROUP BY visit_id, kind HAVING count(*) > 1) d",
    )
    assert duplicates == 0
    # No lost update: of eight corrections of one version, one wins and the rest are told.
    assert sorted(outcomes) == [200] + [409] * 7
    assert created == [201] * 20
    assert scalar(url, "SELECT count(*) FROM patients") == patients_before + 20
    assert run_cli("audit", "verify", env=environment(url)).returncode == 0


def test_sqlite_refuses_what_it_cannot_serve_safely(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    env = environment(url)
    run_cli("db", "upgrade", env=env)
    refused = run_cli("serve", "--workers", "2", env=env, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: SQLite serves from one process")
    with served(env):
        second = run_cli("serve", "--port", "1", env=env, check=False)
        assert second.returncode == 1
        assert re.match(r"error: another regenpath server is running on ", second.stderr)
    looping = subprocess.Popen(
        [REGENPATH, "worker", "--interval", "30"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert looping.stdout is not None
        looping.stdout.readline()  # its first run is done: it holds the file
        cron = run_cli("worker", "--once", env=env, check=False)
        assert cron.returncode == 1
        assert "another regenpath worker is running" in cron.stderr
    finally:
        looping.terminate()
        looping.wait(timeout=30)
    assert run_cli("worker", "--once", env=env).returncode == 0
