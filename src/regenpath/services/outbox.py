"""Delivering the outbox: each message goes once, whatever crashes.

A message moves pending -> sending -> committing -> sent, each step committed before the
next begins. The mailer calls back just before the SMTP end-of-data line leaves
(adapters/notify/smtp.py), and that is where "committing" is recorded:

- a worker that dies while "sending" had not finished the SMTP transaction, so the server
  dropped it: once the claim is older than ``CLAIM_LEASE`` the message is sent again;
- a worker that dies while "committing" may have had the message accepted: it counts as sent,
  never sent twice. The one case that loses it (killed between the record and the line leaving,
  one system call apart) is covered by the ladder's next rung, and it is counted in ``doubtful``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from regenpath.domain.messages import MessageStatus, OutboxMessage
from regenpath.services.ports import Clock, DeliveryFailure, Mailer, UnitOfWork

CLAIM_LEASE = timedelta(minutes=5)  # longer than any SMTP transaction's timeouts
MAX_ATTEMPTS = 8


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    doubtful: int = 0  # found "committing" after a crash: counted as sent, not resent


def deliver_outbox(
    unit_of_work: Callable[[], UnitOfWork], clock: Clock, mailer: Mailer, limit: int = 100
) -> DeliveryReport:
    """Recover what a crash left, then send what is pending (each in its own transactions)."""
    report = DeliveryReport()
    _recover(unit_of_work(), clock, report)
    for message in _claim(unit_of_work(), clock, limit):
        _send(unit_of_work, clock, mailer, message, report)
    return report


def _recover(uow: UnitOfWork, clock: Clock, report: DeliveryReport) -> None:
    now = clock.now()
    with uow:
        for message in uow.outbox.in_status(MessageStatus.COMMITTING):
            message.status, message.sent_at, message.secret_link = MessageStatus.SENT, now, None
            message.last_error = "worker stopped after the end of data left: counted as sent"
            uow.outbox.save(message)
            report.doubtful += 1
        for message in uow.outbox.in_status(MessageStatus.SENDING):
            if message.claimed_at is not None and now - message.claimed_at > CLAIM_LEASE:
                message.status = MessageStatus.PENDING
                message.last_error = "worker stopped before the end of data: sent again"
                uow.outbox.save(message)
        uow.commit()


def _claim(uow: UnitOfWork, clock: Clock, limit: int) -> list[OutboxMessage]:
    now = clock.now()
    with uow:
        claimed = uow.outbox.in_status(MessageStatus.PENDING, limit)
        for message in claimed:
            message.status, message.claimed_at = MessageStatus.SENDING, now
            message.attempts += 1
            uow.outbox.save(message)
        uow.commit()
    return claimed


def _set(unit_of_work: Callable[[], UnitOfWork], message: OutboxMessage) -> None:
    with unit_of_work() as uow:
        uow.outbox.save(message)
        uow.commit()


def _send(
    unit_of_work: Callable[[], UnitOfWork],
    clock: Clock,
    mailer: Mailer,
    message: OutboxMessage,
    report: DeliveryReport,
) -> None:
    def committing() -> None:
        message.status = MessageStatus.COMMITTING
        _set(unit_of_work, message)

    try:
        mailer.deliver(message, committing)
    except DeliveryFailure as failure:
        if message.status is MessageStatus.COMMITTING and not failure.answered:
            # The end of data left but no 250 came back: the server may hold it. Not resent.
            message.status, report.doubtful = MessageStatus.SENT, report.doubtful + 1
            message.sent_at, message.secret_link = clock.now(), None
        elif failure.permanent or message.attempts >= MAX_ATTEMPTS:
            message.status, report.failed = MessageStatus.FAILED, report.failed + 1
            message.secret_link = None
        else:
            message.status, report.retried = MessageStatus.PENDING, report.retried + 1
        message.last_error = str(failure)
        _set(unit_of_work, message)
        return
    message.status, message.sent_at, message.secret_link = (
        MessageStatus.SENT,
        clock.now(),
        None,  # the link's token leaves the database once it has left by email
    )
    _set(unit_of_work, message)
    report.sent += 1
