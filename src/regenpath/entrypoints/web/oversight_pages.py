"""The quality officer's audit search and the registry analyst's de-identified counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.domain.pathway import PATHWAY_ORDER
from regenpath.entrypoints.deps import ClockDep
from regenpath.entrypoints.web.access import ReadAuditTrail, ReadStageCounts
from regenpath.entrypoints.web.rendering import templates
from regenpath.services import audit, clinics, episodes
from regenpath.services.errors import InvalidReference
from regenpath.services.ports import AuditQuery, Page

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request,
    uow: ReadAuditTrail,
    clock: ClockDep,
    actor: Annotated[str, Query(max_length=200)] = "",
    action: AuditAction | None = None,
    outcome: AuditOutcome | None = None,
    resource_type: Annotated[str, Query(max_length=64)] = "",
    resource_id: Annotated[str, Query(max_length=64)] = "",
    since: date | None = None,
    until: date | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    query = AuditQuery(
        actor=actor.strip() or None,
        action=action,
        outcome=outcome,
        resource_type=resource_type.strip() or None,
        resource_id=resource_id.strip() or None,
        # Whole days in UTC: "until 3 May" includes 3 May.
        since=datetime.combine(since, time(0), tzinfo=UTC) if since else None,
        until=(
            datetime.combine(until, time(0), tzinfo=UTC) + timedelta(days=1)
            if until and until < date.max
            else None
        ),
        limit=100,
        cursor=cursor,
    )
    error = None
    try:
        page = audit.search_audit(uow, clock, query)
    except InvalidReference as refused:
        page, error = Page(items=[]), f"{refused.message}."
    filters: dict[str, Any] = {
        "actor": actor,
        "action": action or "",
        "outcome": outcome or "",
        "resource_type": resource_type,
        "resource_id": resource_id,
        "since": since or "",
        "until": until or "",
    }
    return templates.TemplateResponse(
        request,
        "audit.html",
        {
            "q": query,
            "since": since,
            "until": until,
            "page": page,
            "error": error,
            "actions": list(AuditAction),
            "outcomes": list(AuditOutcome),
            "next_query": urlencode(filters | {"cursor": page.next_cursor or ""}),
        },
    )


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, uow: ReadStageCounts) -> Response:
    rows = [(c, episodes.count_by_stage(uow, c.id)) for c in clinics.list_clinics(uow)]
    return templates.TemplateResponse(
        request, "reports.html", {"rows": rows, "stages": PATHWAY_ORDER}
    )
