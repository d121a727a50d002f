"""The background worker: applies the follow-up rules (reminder ladder, end of recovery, lost
to follow-up), then delivers the outbox. ``regenpath worker`` runs it in a loop,
``regenpath worker --once`` once (for cron)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from regenpath.bootstrap import Application
from regenpath.services.outbox import DeliveryReport, deliver_outbox
from regenpath.services.ports import AccessScope, UnitOfWork
from regenpath.services.reminders import RulesReport, apply_follow_up_rules

WORKER = AccessScope(actor="regenpath worker")


@dataclass(frozen=True)
class WorkerRun:
    rules: RulesReport
    delivery: DeliveryReport


def run_once(application: Application) -> WorkerRun:
    def unit_of_work() -> UnitOfWork:
        return application.unit_of_work(WORKER)

    rules = apply_follow_up_rules(
        unit_of_work, application.clock, application.new_id, application.follow_up
    )
    assert application.mailer is not None, "bootstrap always sets a mailer"
    delivery = deliver_outbox(unit_of_work, application.clock, application.mailer)
    return WorkerRun(rules, delivery)


def run_forever(
    application: Application,
    interval: float,
    stop: threading.Event,
    report: Callable[[WorkerRun], None] | None = None,
) -> None:
    """Run until ``stop`` is set, waking every ``interval`` seconds."""
    while not stop.is_set():
        run = run_once(application)
        if report is not None:
            report(run)
        stop.wait(interval)
