"""Eligibility: the assessment of an episode, the ruleset's verdict on it (docs/rules.md
section 3), and the physician's decision that moves the episode on."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, status

from regenpath.entrypoints.api.access import CreateAssessments, MoveEpisodes, ReadAssessments
from regenpath.entrypoints.api.eligibility_schemas import (
    AssessmentIn,
    AssessmentOut,
    DecisionOut,
    EligibilityDecisionIn,
    EligibilityDecisionOut,
    EvaluationOut,
)
from regenpath.entrypoints.api.schemas import EpisodeOut
from regenpath.entrypoints.api.security_schemas import problem_responses
from regenpath.entrypoints.deps import AppDep, IdsDep, public, signed_in_staff
from regenpath.services import episodes, evaluation
from regenpath.services.signatures import Signer

router = APIRouter(tags=["eligibility"])


@router.post("/eligibility/evaluate", dependencies=[Depends(public)])
def evaluate(body: AssessmentIn, app: AppDep) -> DecisionOut:
    """Stateless: the decision on the assessment sent, with every finding; nothing is stored
    and no identity is asked for (the public pre-screen and integrations use it). A value out
    of range or a date in the future is 422 naming the field."""
    return DecisionOut.of(evaluation.evaluate(app.ruleset, app.clock, body.to_domain()))


@router.post(
    "/episodes/{episode_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def record_assessment(
    episode_id: UUID,
    body: AssessmentIn,
    uow: CreateAssessments,
    request: Request,
    app: AppDep,
    ids: IdsDep,
) -> AssessmentOut:
    """The episode's assessment; each call is the next version (earlier ones are kept)."""
    recorded = evaluation.record_assessment(
        uow, app.clock, ids, signed_in_staff(request), episode_id, body.to_domain()
    )
    return AssessmentOut.of(recorded)


@router.get("/episodes/{episode_id}/assessments")
def list_assessments(episode_id: UUID, uow: ReadAssessments, app: AppDep) -> list[AssessmentOut]:
    """Every version of the episode's assessment, newest first."""
    found = evaluation.assessment_versions(uow, app.clock, episode_id)
    return [AssessmentOut.of(recorded) for recorded in found]


@router.post(
    "/episodes/{episode_id}/eligibility",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def evaluate_episode(
    episode_id: UUID, uow: CreateAssessments, request: Request, app: AppDep, ids: IdsDep
) -> EvaluationOut:
    """Evaluate the latest assessment with the clinic's ruleset and store the verdict."""
    done = evaluation.evaluate_episode(
        uow, app.clock, ids, app.ruleset, signed_in_staff(request), episode_id
    )
    assert done.record is not None, "an evaluation is stored"
    return EvaluationOut(
        evaluation_id=done.record.id,
        assessment_version=done.assessment.version,
        decision=DecisionOut.of(done.decision),
    )


@router.post("/episodes/{episode_id}/eligibility/decision", responses=problem_responses(409, 429))
def decide_eligibility(
    episode_id: UUID,
    body: EligibilityDecisionIn,
    uow: MoveEpisodes,
    request: Request,
    app: AppDep,
    ids: IdsDep,
) -> EligibilityDecisionOut:
    """The physician accepts the verdict on the latest assessment, or overrides SOFT findings
    with a reason and their password (e-signature). The episode moves to eligible or
    ineligible; a HARD exclusion or a verdict waiting for data is 409 naming the guard."""
    signer = Signer(
        signed_in_staff(request),
        body.password or "",
        app.hasher,
        app.lockout,
        statement=body.reason,
    )
    stored = evaluation.decide_eligibility(
        uow,
        app.clock,
        ids,
        app.ruleset,
        signer,
        evaluation.DecideEligibility(
            episode_id=episode_id,
            expected_version=body.version,
            override=body.decision == "override",
            reason=body.reason,
            decline=body.decision == "decline",
        ),
    )
    episode = episodes.get_episode(uow, app.clock, episode_id)
    return EligibilityDecisionOut(
        decision_id=stored.id,
        kind=stored.kind,
        computed=stored.computed,
        final=stored.final,
        assessment_version=stored.assessment_version,
        ruleset_version=stored.ruleset_version,
        episode=EpisodeOut.of(episode).model_dump(mode="json"),
    )
