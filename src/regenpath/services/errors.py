"""Errors of the use cases; the entrypoints turn each into one HTTP status or CLI message."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID


class ServiceError(Exception):
    """Base of the errors a use case raises."""


class NotFound(ServiceError):
    """No such record in the caller's clinics (another clinic's record is "not found" too)."""

    def __init__(self, resource: str, id: UUID | str) -> None:
        self.resource = resource
        self.id = id
        super().__init__(f"no {resource} {id}")


class StaleVersion(ServiceError):
    """Someone else changed the record since the caller read it (optimistic concurrency)."""

    def __init__(self, resource: str, id: UUID, expected: int, actual: int | None = None) -> None:
        self.resource = resource
        self.id = id
        self.expected = expected
        self.actual = actual
        now = f"; it is now at version {actual}" if actual is not None else ""
        super().__init__(f"{resource} {id} changed since version {expected}{now}: reload it")


class InvalidReference(ServiceError):
    """A field points at a record that does not exist (for the caller)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class DuplicateValue(ServiceError):
    """A value that must be unique is taken already."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ProbableDuplicate(ServiceError):
    """ID-2: the registration probably repeats patients already on record; it is saved only
    with a reason why they are different people (``duplicate_reason``)."""

    field = "duplicate_reason"

    def __init__(self, candidates: list[tuple[UUID, str, str]]) -> None:
        self.candidates = candidates  # (id, MRN, name) of each look-alike, in this clinic
        self.message = (
            "This looks like a patient already registered ("
            + "; ".join(f"{name}, MRN {mrn}" for _id, mrn, name in candidates)
            + "): open their chart, or say why this is someone else."
        )
        super().__init__(f"{self.field}: {self.message}")


class NotAuthenticated(ServiceError):
    """No valid credentials came with the request (no session, or a bad, expired or revoked
    token): the caller must sign in."""

    def __init__(self, message: str = "sign in first") -> None:
        self.message = message
        super().__init__(message)


class PermissionDenied(ServiceError):
    """The signed-in user's role does not allow this (the access policy in domain/access.py)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class WrongPassword(ServiceError):
    """A sign-in or a signature's re-authentication failed. The message never says whether
    the user name exists."""

    def __init__(self, field: str = "password") -> None:
        self.field = field
        self.message = "the user name or password is not right"
        super().__init__(self.message)


class LockedOut(ServiceError):
    """Too many wrong passwords: attempts are refused unchecked until ``until``."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(f"too many wrong passwords; try again after {until:%H:%M} UTC")
