"""What every staff form needs: typed reading of the posted strings, and refusals in words.

A form keeps what was typed and names the field at fault, like the API's problem+json does;
a refusal from the service (a guard, a stale version, a wrong password) is a sentence the
person at the screen can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from regenpath.domain.errors import Guard, InvalidValue, TransitionRefused
from regenpath.services.errors import (
    DuplicateValue,
    InvalidReference,
    LockedOut,
    PermissionDenied,
    StaleVersion,
    WrongPassword,
)

T = TypeVar("T")
Body = TypeVar("Body", bound=BaseModel)


async def _posted_form(request: Request) -> FormData:
    return await request.form()


# The posted form as it came: each page validates it with the API's own request schema, so a
# record is checked the same way whether it is typed on a page or sent to the API.
Posted = Annotated[FormData, Depends(_posted_form)]

# Pydantic's words for a form field, in the words of a form.
_MESSAGES = {
    "missing": "this is required",
    "enum": "choose one of the options",
    "literal_error": "choose one of the options",
    "string_pattern_mismatch": "choose one of the options",
    "float_parsing": "give a number",
    "int_parsing": "give a whole number",
    "uuid_parsing": "choose one of the options",
    "date_from_datetime_parsing": "use YYYY-MM-DD",
    "date_parsing": "use YYYY-MM-DD",
}

# What a form handler turns into a message on the page rather than an error page.
REFUSALS = (
    TransitionRefused,
    StaleVersion,
    PermissionDenied,
    WrongPassword,
    LockedOut,
    InvalidValue,
    InvalidReference,
    DuplicateValue,
    ValueError,
)


def explain(error: Exception) -> str:  # noqa: PLR0911 -- one sentence per kind of refusal
    """One sentence for a refusal from :data:`REFUSALS`."""
    match error:
        case TransitionRefused():
            return " ".join(f.message for f in error.failures)
        case StaleVersion():
            return "Someone else updated this record meanwhile; this is the current state."
        case PermissionDenied():
            return f"Not allowed: {error.message}."
        case WrongPassword():
            return "The password is not right; nothing was signed."
        case LockedOut():
            return f"Not signed: {error}."
        case InvalidValue() | InvalidReference() | DuplicateValue():
            return f"{error.field.replace('_', ' ').capitalize()}: {error.message}."
        case _:
            return f"That request was not valid: {error}."


def field_of(error: Exception) -> str | None:
    """The form field a refusal names, if it names one; a missing reason is the reason
    field's to fix, as the API's problem+json says (422)."""
    if isinstance(error, TransitionRefused) and error.guard is Guard.REASON_REQUIRED:
        return "reason"
    return getattr(error, "field", None) if isinstance(error, REFUSALS) else None


class FormReader:
    """Reads posted strings into typed values, collecting one message per field at fault."""

    def __init__(self, time_zone: str = "UTC") -> None:
        self.zone = ZoneInfo(time_zone)
        self.errors: dict[str, str] = {}

    def use_zone(self, time_zone: str) -> None:
        """Read later times in this zone: the clinic the form names has been read."""
        self.zone = ZoneInfo(time_zone)

    def parse(self, convert: Callable[[str], T], raw: str, field: str, message: str) -> T | None:
        try:
            return convert(raw.strip())
        except ValueError:
            self.errors[field] = message
            return None

    def choice(self, kind: Callable[[str], T], raw: str, field: str) -> T | None:
        return self.parse(kind, raw, field, "choose one of the options")

    def day(self, raw: str, field: str) -> date | None:
        return self.parse(date.fromisoformat, raw, field, "use YYYY-MM-DD")

    def moment(self, raw: str, field: str) -> datetime | None:
        """A ``datetime-local`` value, read in the clinic's time zone."""
        parsed = self.parse(datetime.fromisoformat, raw, field, "give a date and time")
        if parsed is None:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=self.zone)

    def validate(
        self,
        schema: type[Body],
        posted: FormData,
        *,
        local: Iterable[str] = (),
        checkboxes: Iterable[str] = (),
        lists: Mapping[str, Any] | None = None,
        ignore: Iterable[str] = (),
    ) -> Body | None:
        """The posted fields read by ``schema``: blank fields are left out (so defaults and
        "required" apply), ``local`` date-times are read in the clinic's zone, ``checkboxes``
        are true when sent. ``lists`` are values the caller assembled from repeated fields,
        which it names in ``ignore``."""
        skipped = {"csrf_token", *ignore}
        data: dict[str, Any] = {
            name: value
            for name, value in posted.items()
            if name not in skipped and isinstance(value, str) and value.strip()
        }
        for name in local:
            if name in data:
                moment = self.moment(data.pop(name), name)
                if moment is not None:
                    data[name] = moment
        data |= {name: name in posted for name in checkboxes}
        data |= dict(lists or {})
        try:
            return schema.model_validate(data)
        except ValidationError as error:
            for problem in error.errors():
                field = _field_name(problem["loc"])
                message = _MESSAGES.get(problem["type"], str(problem["msg"]))
                self.errors.setdefault(field, message)
            return None

    def refused(self, error: Exception) -> None:
        """A refusal from the service, kept under its field (or the whole form's)."""
        field = (field_of(error) or "form").replace(".", "_")  # "imaging.x": the form's imaging_x
        self.errors[field] = explain(error)

    @property
    def ok(self) -> bool:
        return not self.errors


def typed(posted: FormData) -> dict[str, str]:
    """What was typed, to show again with the reasons; never the password or the token."""
    return {
        name: value
        for name, value in posted.items()
        if isinstance(value, str) and name not in ("csrf_token", "password")
    }


def _field_name(location: tuple[int | str, ...]) -> str:
    """The form's name for a schema location: ("sites", 0, "volume_ml") -> "volume_ml_1" (a
    row of a table), ("imaging", "modic_type") -> "imaging_modic_type" (a group of fields)."""
    if len(location) == 3 and isinstance(location[1], int):
        return f"{location[2]}_{location[1] + 1}"
    if len(location) == 2 and not isinstance(location[1], int):
        return f"{location[0]}_{location[1]}"
    return str(location[0]) if location else "form"


def local_input(value: datetime, time_zone: str) -> str:
    """A moment as a ``datetime-local`` input shows it, in the clinic's zone."""
    return value.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%M")


def submit(
    form: FormReader,
    act: Callable[[], str],
    then: Callable[[str], str],
    again: Callable[[FormReader], Response],
) -> Response:
    """Run ``act`` if the form read cleanly and redirect to ``then(what act returned)``
    (POST/redirect/GET); otherwise, or if the service refused, show the page ``again`` with
    the reasons under the form and what was typed still in place."""
    if form.ok:
        try:
            done = act()
        except REFUSALS as error:
            form.refused(error)
        else:
            return RedirectResponse(then(done), status_code=303)
    return again(form)


def submit_form(
    form: FormReader,
    schema: type[Body],
    posted: FormData,
    act: Callable[[Body], str],
    then: Callable[[str], str],
    again: Callable[[FormReader], Response],
    *,
    local: Iterable[str] = (),
    checkboxes: Iterable[str] = (),
    lists: Mapping[str, Any] | None = None,
    ignore: Iterable[str] = (),
) -> Response:
    """:func:`submit` for a form read by an API request ``schema`` (:meth:`FormReader.validate`)."""
    body = form.validate(
        schema, posted, local=local, checkboxes=checkboxes, lists=lists, ignore=ignore
    )

    def run() -> str:
        assert body is not None, "a form that read cleanly has its body"
        return act(body)

    return submit(form, run, then, again)


def status_of(form: FormReader | None) -> int:
    """422 when a field is at fault, 409 when the record's state refused the whole form."""
    if form is None or form.ok:
        return 200
    return 409 if set(form.errors) == {"form"} else 422
