"""Eligibility: the ruleset read on an assessment (regulatory.md section 3)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from regenpath.entrypoints.api.eligibility_schemas import AssessmentIn, DecisionOut
from regenpath.entrypoints.deps import AppDep, public
from regenpath.services import eligibility

router = APIRouter(tags=["eligibility"])


@router.post("/eligibility/evaluate", dependencies=[Depends(public)])
def evaluate(body: AssessmentIn, app: AppDep) -> DecisionOut:
    """Stateless: the decision on the assessment sent, with every finding; nothing is stored
    and no identity is asked for (the public pre-screen and integrations use it). A value out
    of range or a date in the future is 422 naming the field."""
    return DecisionOut.of(eligibility.evaluate(app.ruleset, app.clock, body.to_domain()))
