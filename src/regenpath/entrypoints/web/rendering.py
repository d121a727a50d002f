"""Templates and the filters they use: times in the clinic's zone, stages in clinic words."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

from regenpath.domain.pathway import Stage

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

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


templates.env.filters["local_time"] = local_time
templates.env.filters["stage_label"] = stage_label
templates.env.globals["WAITING_FOR"] = WAITING_FOR
