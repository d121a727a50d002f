"""Bodies of the security routes: API tokens, accounts, the audit trail, signatures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from regenpath.domain.access import ApiToken, Role, UserAccount
from regenpath.domain.audit import AuditAction, AuditOutcome, SealedEntry
from regenpath.domain.signatures import SignatureMeaning, SignatureStatus
from regenpath.entrypoints.api.schemas import Out, Strict
from regenpath.services.identity import MAX_TOKEN_DAYS
from regenpath.services.signatures import SignedRecord


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is sent."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route can answer, all ``application/problem+json``."""
    return {
        status: {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": _WHY.get(status, "An error; the body says which field and why."),
        }
        for status in statuses
    }


_WHY = {
    401: "No valid API token: send Authorization: Bearer <token>.",
    403: "The token's user has no role that allows this.",
    404: "No such record in the user's clinics.",
    409: "A guard refused the move, or the version is stale.",
    422: "A field is missing or not valid; the problem names it.",
    429: "Too many wrong passwords: the account is locked for a while.",
}


class TokenCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = "API token"
    days: int = Field(default=90, ge=1, le=MAX_TOKEN_DAYS)


class TokenOut(Out):
    id: UUID
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls.model_validate(token)


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer secret. Shown this once; only a digest is kept.")


class MembershipOut(BaseModel):
    clinic_id: UUID
    role: Role


class UserOut(BaseModel):
    id: UUID
    username: str
    display_name: str
    active: bool
    memberships: list[MembershipOut]

    @classmethod
    def of(cls, user: UserAccount, visible: frozenset[UUID] | None) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            active=user.active,
            memberships=[
                MembershipOut(clinic_id=clinic, role=role)
                for clinic, role in user.memberships.items()
                if visible is None or clinic in visible
            ],
        )


class AuditEntryOut(BaseModel):
    sequence: int
    occurred_at: datetime
    actor: str
    action: AuditAction
    resource_type: str
    resource_id: str | None
    clinic_id: UUID | None
    outcome: AuditOutcome
    reason: str | None
    detail: str | None
    hash: str

    @classmethod
    def of(cls, sealed: SealedEntry) -> AuditEntryOut:
        e = sealed.entry
        return cls(
            sequence=sealed.sequence,
            occurred_at=e.occurred_at,
            actor=e.actor,
            action=e.action,
            resource_type=e.resource_type,
            resource_id=e.resource_id,
            clinic_id=e.clinic_id,
            outcome=e.outcome,
            reason=e.reason,
            detail=e.detail,
            hash=sealed.hash,
        )


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = None


class CloseEpisodeIn(Strict):
    version: int = Field(ge=1)
    password: str = Field(min_length=1, max_length=200, description="Re-authenticates the signer.")
    meaning: SignatureMeaning = SignatureMeaning.RESPONSIBILITY
    statement: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = (
        None
    )


class SignatureOut(BaseModel):
    id: UUID
    printed_name: str
    meaning: SignatureMeaning
    signed_at: datetime
    content_hash: str
    statement: str | None
    status: SignatureStatus

    @classmethod
    def of(cls, signed: SignedRecord) -> SignatureOut:
        s = signed.signature
        return cls(
            id=s.id,
            printed_name=s.printed_name,
            meaning=s.meaning,
            signed_at=s.signed_at,
            content_hash=s.content_hash,
            statement=s.statement,
            status=signed.status,
        )
