"""kill -9 in the middle of the long writers: a FHIR NDJSON import and `regenpath demo`.
What they leave is whole records only (each file, each patient's story, one transaction),
a database that passes its integrity check and an audit trail that verifies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from tests.integration.conftest import _empty_tables
from tests.integration.personas import username_of
from tests.processes import REGENPATH, environment, run_cli, scalar, served

pytestmark = pytest.mark.xdist_group("processes")
PATIENTS = 10_000
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def patients_file(folder: Path, clinic_id: str) -> Path:
    path = folder / "Patient.ndjson"
    with path.open("w") as stream:
        for n in range(PATIENTS):
            stream.write(
                json.dumps(
                    {
                        "resourceType": "Patient",
                        "id": f"killed-{n:05d}",
                        "identifier": [
                            {
                                "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                                "value": f"KL-{n:05d}",
                            }
                        ],
                        "name": [{"family": f"Family{n % 97}", "given": ["Sam"]}],
                        "gender": "female",
                        "birthDate": "1970-01-01",
                        "managingOrganization": {"reference": f"Organization/{clinic_id}"},
                    }
                )
                + "\n"
            )
    return path


def kill_after(command: list[str], env: dict[str, str], seconds: float) -> None:
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(seconds)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def assert_sound(url: str) -> None:
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        engine.dispose()
    verified = run_cli("audit", "verify", env=environment(url), check=False)
    assert verified.returncode == 0, verified.stderr


def test_an_import_killed_midway_leaves_all_of_a_file_or_none(
    application: Application, clinic: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    path = patients_file(tmp_path, clinic["id"])
    env = environment(database_url)
    for delay in (1.8, 2.4, 3.0):  # start-up takes about 1.5 s; the file about 2 s more
        kill_after([REGENPATH, "import", "fhir", str(path)], env, delay)
        imported = scalar(database_url, "SELECT count(*) FROM patients")
        assert imported in (0, PATIENTS)
        assert_sound(database_url)
    done = run_cli("import", "fhir", str(path), env=env, timeout=300)
    assert "Patient.ndjson:" in done.stdout
    assert scalar(database_url, "SELECT count(*) FROM patients") == PATIENTS


def test_a_server_killed_during_an_import_leaves_all_of_it_or_none(
    application: Application,
    clinic: dict[str, str],
    staff: dict[Role, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    """kill -9 of the server while `POST /fhir/R4/$import` writes: the file's one transaction
    is all there or not at all, and a second server takes the same file whole."""
    body = patients_file(tmp_path, clinic["id"]).read_bytes()
    env = environment(database_url)
    # A token on the real clock: the fixtures' tokens live on the tests' clock.
    token = run_cli("token", "create", username_of(clinic, Role.PHYSICIAN), env=env)
    headers = {
        "Authorization": f"Bearer {token.stdout.strip()}",
        "Content-Type": "application/fhir+ndjson",
    }
    with served(env) as (base, server):
        answers: list[object] = []

        def upload() -> None:
            try:
                answers.append(
                    httpx.post(
                        f"{base}/fhir/R4/$import", content=body, headers=headers, timeout=120
                    )
                )
            except httpx.TransportError as error:  # the server died under it
                answers.append(error)

        sender = threading.Thread(target=upload)
        sender.start()
        time.sleep(1.2)  # the body is in; validation and the writes take a few seconds more
        os.killpg(server.pid, signal.SIGKILL)
        sender.join(timeout=60)
    assert answers and isinstance(answers[0], httpx.TransportError), answers
    assert scalar(database_url, "SELECT count(*) FROM patients") in (0, PATIENTS)
    assert_sound(database_url)
    with served(env) as (base, _server):
        again = httpx.post(f"{base}/fhir/R4/$import", content=body, headers=headers, timeout=300)
        assert again.status_code == 200, again.text
    assert scalar(database_url, "SELECT count(*) FROM patients") == PATIENTS
    assert_sound(database_url)


def test_a_demo_killed_midway_leaves_whole_records_and_a_sound_trail(
    application: Application, database_url: str
) -> None:
    _empty_tables(application)  # the demo fills an empty database only
    env = environment(database_url)
    kill_after([REGENPATH, "demo", "--patients", "60"], env, 6.0)
    assert_sound(database_url)
    # Each patient is registered with its audit entry in one transaction: never one alone.
    patients = scalar(database_url, "SELECT count(*) FROM patients")
    registered = scalar(
        database_url,
        "SELECT count(*) FROM audit_events WHERE action = 'create' AND resource_type = 'patient'",
    )
    assert patients == registered
