"""The treatment plan form and the consent page, made for the clinic's tablet: the patient
reads the document generated from the plan and signs by typing their name; a printable copy."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter

from regenpath.domain.assessment import region_of
from regenpath.domain.consent import Payment, TreatmentPlan
from regenpath.domain.episodes import Episode
from regenpath.domain.procedures import Guidance
from regenpath.domain.products import ProductType
from regenpath.domain.quality import ProcessingKind
from regenpath.entrypoints.api.consent_schemas import PlanIn, SignConsentIn, WithdrawConsentIn
from regenpath.entrypoints.deps import AppDep, signed_in_staff
from regenpath.entrypoints.web.access import (
    CreatePlans,
    ReadConsents,
    SignConsents,
    WithdrawConsents,
)
from regenpath.entrypoints.web.expectations import patients_like
from regenpath.entrypoints.web.forms import FormReader, Posted, status_of, submit_form, typed
from regenpath.entrypoints.web.rendering import templates
from regenpath.services import clinics, consent, patients
from regenpath.services.outcomes import Expectation
from regenpath.services.ports import UnitOfWork

router = APIRouter(include_in_schema=False)

NOTICES = {
    "planned": "Plan saved. A consent signed on an earlier plan no longer counts.",
    "signed": "Consent signed. Thank you.",
    "withdrawn": "Withdrawal recorded.",
}
CHECKBOXES = ("same_surgical_procedure", "combined_with_other_article", "abroad")
_PLAN = TypeAdapter(TreatmentPlan)


def _consent_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    episode_id: UUID,
    *,
    form: FormReader | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    template: str = "consent.html",
) -> Response:
    view = consent.consent_view(uow, app.clock, episode_id)
    return templates.TemplateResponse(
        request,
        template,
        {
            "view": view,
            "e": view.episode,
            "expect": _what_to_expect(uow, app, view.episode)
            if template == "consent.html"
            else None,
            "zone": clinics.get_clinic(uow, view.episode.clinic_id).time_zone,
            "errors": form.errors if form is not None else {},
            "values": values or {},
            "notice": notice,
        },
        status_code=status_of(form),
    )


def _what_to_expect(uow: UnitOfWork, app: AppDep, episode: Episode) -> Expectation:
    """The clinic's own figures for patients like this one, shown before they sign."""
    patient = patients.get_patient(uow, app.clock, episode.patient_id)
    age = patient.age_on(app.clock.now().date())
    group = {"condition": episode.condition_code[:3], "target": region_of(episode.target_site)}
    return patients_like(app, [group], age, uow.scope.clinic_ids)


@router.get("/episodes/{episode_id}/consent", response_class=HTMLResponse)
def consent_page(
    request: Request, episode_id: UUID, uow: ReadConsents, app: AppDep, done: str | None = None
) -> Response:
    return _consent_page(request, uow, app, episode_id, notice=NOTICES.get(done or ""))


@router.get("/episodes/{episode_id}/consent/print", response_class=HTMLResponse)
def consent_print(request: Request, episode_id: UUID, uow: ReadConsents, app: AppDep) -> Response:
    """The document with the signature on it, for the patient to take home."""
    return _consent_page(request, uow, app, episode_id, template="consent_print.html")


@router.post("/episodes/{episode_id}/consent/sign", response_class=HTMLResponse)
def sign(
    request: Request, episode_id: UUID, uow: SignConsents, app: AppDep, posted: Posted
) -> Response:
    def act(body: SignConsentIn) -> str:
        consent.sign_consent(
            uow,
            app.clock,
            app.new_id,
            signed_in_staff(request),
            consent.SignConsent(
                episode_id=episode_id,
                expected_version=body.version,
                document_hash=body.document_hash,
                signed_name=body.signed_name,
                agreed=body.agreed,
            ),
        )
        return "signed"

    return submit_form(
        FormReader(),
        SignConsentIn,
        posted,
        act,
        lambda done: f"/episodes/{episode_id}/consent?done={done}",
        lambda refused: _consent_page(
            request, uow, app, episode_id, form=refused, values=typed(posted)
        ),
        checkboxes=("agreed",),
    )


@router.post("/episodes/{episode_id}/consent/{consent_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    request: Request,
    episode_id: UUID,
    consent_id: UUID,
    uow: WithdrawConsents,
    app: AppDep,
    posted: Posted,
) -> Response:
    def act(body: WithdrawConsentIn) -> str:
        staff = signed_in_staff(request)
        consent.withdraw_consent(uow, app.clock, staff, episode_id, consent_id, body.reason)
        return "withdrawn"

    return submit_form(
        FormReader(),
        WithdrawConsentIn,
        posted,
        act,
        lambda done: f"/episodes/{episode_id}/consent?done={done}",
        lambda refused: _consent_page(request, uow, app, episode_id, form=refused),
    )


def _plan_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    episode_id: UUID,
    *,
    form: FormReader | None = None,
    values: dict[str, str | list[str]] | None = None,
) -> Response:
    view = consent.consent_view(uow, app.clock, episode_id)
    if values is None:
        values = (
            _plan_values(view.plan)
            if view.plan is not None
            else {
                "targets": view.episode.target_site,
                "currency": "USD",
                "treatment_country": "US",
                "sessions": "1",
            }
        )
    return templates.TemplateResponse(
        request,
        "plan.html",
        {
            "view": view,
            "e": view.episode,
            "values": values,
            "errors": form.errors if form is not None else {},
            "product_types": list(ProductType),
            "guidances": list(Guidance),
            "kinds": list(ProcessingKind),
            "payments": list(Payment),
            "checkboxes": CHECKBOXES,
        },
        status_code=status_of(form),
    )


def _plan_values(plan: TreatmentPlan) -> dict[str, str | list[str]]:
    data = _PLAN.dump_python(plan, mode="json")
    values: dict[str, str | list[str]] = {
        name: ("true" if value else "") if isinstance(value, bool) else str(value or "")
        for name, value in data.items()
        if name not in ("targets", "processing")
    }
    values["targets"] = ", ".join(plan.targets)
    values["processing"] = [step.value for step in plan.processing]
    return values


@router.get("/episodes/{episode_id}/plan", response_class=HTMLResponse)
def plan_form(request: Request, episode_id: UUID, uow: CreatePlans, app: AppDep) -> Response:
    return _plan_page(request, uow, app, episode_id)


@router.post("/episodes/{episode_id}/plan", response_class=HTMLResponse)
def save_plan(
    request: Request, episode_id: UUID, uow: CreatePlans, app: AppDep, posted: Posted
) -> Response:
    def act(body: PlanIn) -> str:
        staff = signed_in_staff(request)
        consent.save_plan(uow, app.clock, app.new_id, staff, episode_id, body.details())
        return "planned"

    targets = [t.strip() for t in str(posted.get("targets", "")).split(",") if t.strip()]
    processing = [str(step) for step in posted.getlist("processing")]
    values: dict[str, str | list[str]] = {**typed(posted), "processing": processing}
    return submit_form(
        FormReader(),
        PlanIn,
        posted,
        act,
        lambda done: f"/episodes/{episode_id}/consent?done={done}",
        lambda refused: _plan_page(request, uow, app, episode_id, form=refused, values=values),
        checkboxes=CHECKBOXES,
        lists={"targets": targets, "processing": processing},
        ignore=("targets", "processing"),
    )
