"""The treatment plan (with its regulatory classification) and the informed consent."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, status

from regenpath.entrypoints.api.access import (
    CreatePlans,
    ReadConsents,
    ReadPlans,
    SignConsents,
    WithdrawConsents,
)
from regenpath.entrypoints.api.consent_schemas import (
    ConsentOut,
    ConsentViewOut,
    PlanIn,
    PlanOut,
    SignConsentIn,
    WithdrawConsentIn,
)
from regenpath.entrypoints.api.security_schemas import problem_responses
from regenpath.entrypoints.deps import ClockDep, IdsDep, signed_in_staff
from regenpath.services import consent

router = APIRouter(tags=["consent"])


@router.post(
    "/episodes/{episode_id}/plans",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def save_plan(
    episode_id: UUID, body: PlanIn, uow: CreatePlans, request: Request, clock: ClockDep, ids: IdsDep
) -> PlanOut:
    """The treatment plan, classified under 21 CFR 1271 (REG-1..5); a change is the next
    version and voids a consent signed on the earlier one."""
    plan = consent.save_plan(uow, clock, ids, signed_in_staff(request), episode_id, body.details())
    return PlanOut.of(plan)


@router.get("/episodes/{episode_id}/plans")
def list_plans(episode_id: UUID, uow: ReadPlans, clock: ClockDep) -> list[PlanOut]:
    return [PlanOut.of(plan) for plan in consent.plan_versions(uow, clock, episode_id)]


@router.get("/episodes/{episode_id}/consent")
def read_consent(episode_id: UUID, uow: ReadConsents, clock: ClockDep) -> ConsentViewOut:
    """The consent document of the current plan, with its hash, and the signed consents."""
    return ConsentViewOut.of(consent.consent_view(uow, clock, episode_id))


@router.post(
    "/episodes/{episode_id}/consents",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def sign_consent(
    episode_id: UUID,
    body: SignConsentIn,
    uow: SignConsents,
    request: Request,
    clock: ClockDep,
    ids: IdsDep,
) -> ConsentOut:
    """The patient's signature on the document (its hash as read); a document that changed
    meanwhile is 409 ``consent_document_changed``; a 351 plan without an IND or BLA is 409."""
    signed = consent.sign_consent(
        uow,
        clock,
        ids,
        signed_in_staff(request),
        consent.SignConsent(
            episode_id=episode_id,
            expected_version=body.version,
            document_hash=body.document_hash,
            signed_name=body.signed_name,
            agreed=body.agreed,
        ),
    )
    return ConsentOut.model_validate(signed)


@router.post("/episodes/{episode_id}/consents/{consent_id}/withdraw")
def withdraw_consent(
    episode_id: UUID,
    consent_id: UUID,
    body: WithdrawConsentIn,
    uow: WithdrawConsents,
    request: Request,
    clock: ClockDep,
) -> ConsentOut:
    withdrawn = consent.withdraw_consent(
        uow, clock, signed_in_staff(request), episode_id, consent_id, body.reason
    )
    return ConsentOut.model_validate(withdrawn)
