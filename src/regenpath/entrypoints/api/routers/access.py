"""The signed-in user's API tokens, the clinic's accounts, and the audit trail."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime

from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.entrypoints.api.access import (
    CreateOwnTokens,
    ReadAuditTrail,
    ReadOwnTokens,
    ReadUsers,
    RevokeOwnTokens,
)
from regenpath.entrypoints.api.security_schemas import (
    AuditEntryOut,
    AuditPage,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserOut,
)
from regenpath.entrypoints.deps import AppDep, ClockDep, signed_in_staff
from regenpath.services import audit, identity
from regenpath.services.ports import AuditQuery

router = APIRouter()


@router.get("/tokens", tags=["access"])
def list_tokens(uow: ReadOwnTokens, request: Request) -> list[TokenOut]:
    """The signed-in user's API tokens (never their secrets)."""
    return [TokenOut.of(t) for t in identity.tokens_of(uow, signed_in_staff(request).user_id)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, tags=["access"])
def create_token(
    body: TokenCreate, uow: CreateOwnTokens, request: Request, app: AppDep
) -> TokenCreated:
    """A new token for the signed-in user; its secret is in this answer and nowhere else."""
    created = identity.create_token(
        uow,
        app.clock,
        app.new_id,
        app.digest,
        username=signed_in_staff(request).username,
        name=body.name,
        days=body.days,
    )
    return TokenCreated(**TokenOut.of(created.token).model_dump(), token=created.secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["access"])
def revoke_token(
    token_id: UUID, uow: RevokeOwnTokens, request: Request, clock: ClockDep
) -> Response:
    identity.revoke_token(uow, clock, signed_in_staff(request).user_id, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", tags=["access"])
def list_users(uow: ReadUsers) -> list[UserOut]:
    """The accounts with a role in the admin's clinics, and those roles."""
    return [UserOut.of(u, uow.scope.clinic_ids) for u in identity.members(uow)]


@router.get("/audit-events", tags=["audit"])
def search_audit_trail(
    uow: ReadAuditTrail,
    clock: ClockDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: AuditAction | None = None,
    outcome: AuditOutcome | None = None,
    resource_type: Annotated[str | None, Query(max_length=64)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> AuditPage:
    """The audit trail of the officer's clinics (and sign-ins), newest first."""
    page = audit.search_audit(
        uow,
        clock,
        AuditQuery(
            actor=actor,
            action=action,
            outcome=outcome,
            resource_type=resource_type,
            resource_id=resource_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        ),
    )
    return AuditPage(items=[AuditEntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)
