"""Messages to patients that leave through the outbox (email now; letters are tasks).

The outbox is the only way out: a message is written in the same transaction as what made it
due, and a worker delivers it later, so a crash can neither lose it nor (see
``adapters/notify/smtp.py``) send it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

LINK_PLACEHOLDER = "{portal_link}"


class MessageStatus(StrEnum):
    PENDING = "pending"  # written, not yet tried
    SENDING = "sending"  # a worker holds it; the SMTP transaction has not reached its end
    COMMITTING = "committing"  # the end of the message is on its way to the server
    SENT = "sent"
    FAILED = "failed"  # refused by the server for good, or tried too often


@dataclass
class OutboxMessage:
    id: UUID
    clinic_id: UUID
    recipient: str
    subject: str
    body: str  # may hold LINK_PLACEHOLDER, filled from ``secret_link`` only when sending
    created_at: datetime
    purpose: str  # "follow_up_reminder", "portal_link"
    patient_id: UUID | None = None
    visit_id: UUID | None = None
    secret_link: str | None = None  # the portal link with its token; erased once sent
    status: MessageStatus = MessageStatus.PENDING
    attempts: int = 0
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None

    @property
    def message_id(self) -> str:
        """The RFC 5322 Message-ID: the same on every attempt, so a mail system that sees a
        message twice can tell it is one message."""
        return f"<{self.id}@regenpath>"

    def rendered_body(self) -> str:
        if self.secret_link is None:
            return self.body
        return self.body.replace(LINK_PLACEHOLDER, self.secret_link)
