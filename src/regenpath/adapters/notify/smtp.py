"""Email over SMTP, split where the outbox needs it split.

An SMTP server takes responsibility for a message when it reads the final ``.`` line after
DATA; a connection that drops before that line leaves no message behind (RFC 5321 s.4.1.1.4).
So the mailer sends everything but that line, lets the outbox record "committing", and only
then sends it. A worker killed before the record resends safely; one killed after it knows the
server may hold the message and does not send it again (services/outbox.py).
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from regenpath.domain.messages import OutboxMessage
from regenpath.services.ports import DeliveryFailure


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout

    def compose(self, message: OutboxMessage) -> bytes:
        email = EmailMessage(policy=SMTP_POLICY)
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = message.message_id
        email["Date"] = format_datetime(message.created_at)
        email.set_content(message.rendered_body())
        return email.as_bytes()

    def deliver(self, message: OutboxMessage, before_final_dot: Callable[[], None]) -> None:
        payload = re.sub(rb"(?m)^\.", b"..", self.compose(message))  # dot-stuffing
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls()
                    smtp.ehlo()
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                _expect(smtp.mail(self.sender), 250)
                _expect(smtp.rcpt(message.recipient), 250, 251)
                smtp.putcmd("data")
                _expect(smtp.getreply(), 354)
                smtp.send(payload)
                before_final_dot()
                smtp.send(b".\r\n")
                _expect(smtp.getreply(), 250)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailure(
                str(error) or type(error).__name__, permanent=False, answered=False
            ) from None


def _expect(reply: tuple[int, bytes], *codes: int) -> None:
    code, text = reply
    if code in codes:
        return
    detail = f"{code} {text.decode(errors='replace')}"
    raise DeliveryFailure(detail, permanent=500 <= code < 600, answered=True)
