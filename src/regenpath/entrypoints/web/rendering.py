"""Templates and the filters they use: times in the clinic's zone, stages in clinic words."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from regenpath.domain.access import Action, Resource, StaffMember
from regenpath.domain.isbt128 import parse_din
from regenpath.domain.pathway import Stage
from regenpath.services import clinics
from regenpath.services.ports import UnitOfWork


def _signed_in(request: Request) -> dict[str, Any]:
    """Who is signed in and the CSRF token their forms carry, for every template."""
    staff: StaffMember | None = getattr(request.state, "staff", None)

    def may(action: str, resource: str) -> bool:
        return staff is not None and bool(
            staff.clinics_permitting(Action(action), Resource(resource))
        )

    return {
        "staff": staff,
        "may": may,
        "csrf": getattr(request.state, "csrf", None),
        "roles": sorted({str(r) for r in staff.memberships.values()}) if staff else [],
    }


templates = Jinja2Templates(
    directory=Path(__file__).parent / "templates", context_processors=[_signed_in]
)


def page_error(request: Request, status: int, message: str) -> Response:
    """An error as a page, with a way back: the portal's start for a patient."""
    portal = request.url.path.startswith("/portal")
    context = {"status": status, "message": message, "back": "/portal" if portal else "/"}
    name = "portal/error.html" if portal else "error.html"
    return templates.TemplateResponse(request, name, context, status_code=status)


# "Who is waiting for what": what the next person in the pathway has to do.
WAITING_FOR: dict[Stage, str] = {
    Stage.REFERRED: "evaluation to start",
    Stage.IN_EVALUATION: "eligibility decision",
    Stage.ELIGIBLE: "informed consent",
    Stage.INELIGIBLE: "nothing (closed)",
    Stage.CONSENTED: "a treatment cycle to be planned",
    Stage.PLANNED: "harvest or donor product",
    Stage.HARVESTED: "lab processing",
    Stage.PROCESSED: "QC release",
    Stage.RELEASED: "injection",
    Stage.PRODUCT_ALLOCATED: "injection",
    Stage.ADMINISTERED: "recovery plan",
    Stage.RECOVERY: "recovery to finish",
    Stage.FOLLOW_UP: "follow-up visits",
    Stage.COMPLETED: "nothing (closed)",
    Stage.WITHDRAWN: "nothing (closed)",
    Stage.LOST_TO_FOLLOW_UP: "a call: patient not responding",
}


def local_time(value: datetime | None, time_zone: str = "UTC", fmt: str = "%d %b %Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(time_zone)).strftime(fmt)


def stage_label(value: Stage | str) -> str:
    return Stage(value).label


def words(value: StrEnum | str | None) -> str:
    """A code as words: ``posterior_iliac_crest`` -> ``posterior iliac crest``; an enum with a
    clinic ``label`` says that instead."""
    if value is None:
        return ""
    label = getattr(value, "label", None)
    return str(label) if isinstance(label, str) else str(value).replace("_", " ")


def eye_readable(din_code: str) -> str:
    """A stored 13-character DIN as printed: grouped, with its check character (ISBT-2)."""
    return parse_din(din_code).eye_readable


def svg_image(svg: bytes) -> str:
    """A data: URI for an ``<img>``: the page's CSP forbids an SVG's inline styles, an image
    document may have them."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def choices(members: Iterable[StrEnum]) -> list[tuple[str, str]]:
    """A select's options: (code, words)."""
    return [(m.value, words(m)) for m in members]


def clinic_zones(uow: UnitOfWork) -> dict[UUID, str]:
    """Each clinic's time zone: every time on a page is the clinic's local time."""
    return {c.id: c.time_zone for c in clinics.list_clinics(uow)}


templates.env.filters["local_time"] = local_time
templates.env.filters["stage_label"] = stage_label
templates.env.filters["words"] = words
templates.env.filters["din"] = eye_readable
templates.env.globals["WAITING_FOR"] = WAITING_FOR
templates.env.globals["choices"] = choices
templates.env.globals["timedelta"] = timedelta
