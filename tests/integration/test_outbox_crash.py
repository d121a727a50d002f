"""The outbox under crashes (issue 8): a worker killed between sending and marking sent does
not send again after a restart, and one killed before the end of data sends again once its
claim has lapsed. Asserted on a real SMTP server; both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from regenpath.adapters.db.followup import OutboxRow
from regenpath.adapters.notify.smtp import SmtpMailer
from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.domain.messages import MessageStatus, OutboxMessage
from regenpath.entrypoints.worker import run_once
from regenpath.services.outbox import CLAIM_LEASE
from tests.smtp import smtp_server
from tests.support import TestClock

EMAIL = "grace.hopper@example.org"


def queue_portal_link(client: TestClient) -> None:
    patient = client.post(
        "/api/v1/patients",
        json={
            "clinic_id": client.clinic["id"],  # type: ignore[attr-defined]
            "mrn": "OB-1",
            "family_name": "Hopper",
            "given_name": "Grace",
            "birth_date": "1956-12-09",
            "sex": "female",
            "email": EMAIL,
        },
    ).json()
    sent = client.post(
        f"/api/v1/patients/{patient['id']}/portal-link",
        headers=client.as_role(Role.NURSE),  # type: ignore[attr-defined]
    )
    assert sent.status_code == 202, sent.text


def statuses(application: Application) -> list[MessageStatus]:
    with application.engine.connect() as connection:
        return list(connection.scalars(select(OutboxRow.status)))


def worker(database_url: str, port: int) -> subprocess.Popen[bytes]:
    environment = os.environ | {
        "REGENPATH_DATABASE_URL": database_url,
        "REGENPATH_SMTP_HOST": "127.0.0.1",
        "REGENPATH_SMTP_PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "regenpath.entrypoints.cli", "worker", "--once"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_worker_killed_between_sending_and_marking_sent_never_sends_twice(
    client: TestClient, application: Application, database_url: str
) -> None:
    queue_portal_link(client)
    with smtp_server() as (mailbox, port):
        first = worker(database_url, port)

        def kill_the_worker() -> None:
            # The end of data has arrived; the worker has not read the 250 nor marked sent.
            first.kill()
            first.wait(timeout=30)

        mailbox.on_data = kill_the_worker
        first.wait(timeout=60)
        assert first.returncode == -9
        assert statuses(application) == [MessageStatus.COMMITTING]
        mailbox.on_data = None

        restarted = worker(database_url, port)
        output, problems = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, problems.decode()
        assert "1 counted sent after a crash" in output.decode()
        assert len(mailbox.to(EMAIL)) == 1
    assert statuses(application) == [MessageStatus.SENT]


class Crash(BaseException):
    """The process dies: nothing after it runs, no handler catches it."""


class DiesBeforeTheEndOfData(SmtpMailer):
    def deliver(self, message: OutboxMessage, before_final_dot: Any) -> None:
        def die() -> None:
            raise Crash

        super().deliver(message, die)


def test_a_worker_killed_before_the_end_of_data_sends_again_after_its_claim_lapses(
    client: TestClient, application: Application, clock: TestClock
) -> None:
    queue_portal_link(client)
    with smtp_server() as (mailbox, port):
        application.mailer = DiesBeforeTheEndOfData(
            host="127.0.0.1", port=port, sender="clinic@example.org"
        )
        with pytest.raises(Crash):
            run_once(application)
        assert statuses(application) == [MessageStatus.SENDING]
        application.mailer = SmtpMailer(host="127.0.0.1", port=port, sender="clinic@example.org")
        assert run_once(application).delivery.sent == 0  # another worker may still hold it
        clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
        assert run_once(application).delivery.sent == 1
        assert len(mailbox.to(EMAIL)) == 1  # the dropped transaction left nothing behind
    assert statuses(application) == [MessageStatus.SENT]
