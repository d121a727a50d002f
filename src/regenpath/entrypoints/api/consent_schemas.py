"""The treatment plan and consent API's bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from regenpath.domain.consent import Payment, PlanDetails, SignedConsent, TreatmentPlan
from regenpath.domain.procedures import Guidance
from regenpath.domain.products import CellSource, ProductType
from regenpath.domain.quality import ProcessingKind
from regenpath.domain.regulatory import RegulatoryPathway
from regenpath.entrypoints.api.schemas import Out, Strict, Text
from regenpath.services.consent import ConsentView

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class PlanIn(Strict):
    source: CellSource
    product_type: ProductType
    targets: list[Text] = Field(min_length=1, max_length=6, examples=[["L4-L5 disc"]])
    sessions: int = Field(ge=1, le=10)
    guidance: Guidance
    same_surgical_procedure: bool = Field(
        description="Harvest and injection in one surgical procedure (REG-2)."
    )
    processing: list[ProcessingKind] = Field(default_factory=list, max_length=10)
    combined_with_other_article: bool = False
    price: Decimal = Field(ge=0, le=1_000_000, decimal_places=2)
    currency: str = Field(pattern="^[A-Z]{3}$", description="ISO 4217.")
    payment: Payment
    treatment_country: str = Field(default="US", pattern="^[A-Z]{2}$")
    abroad: bool = Field(default=False, description="COST-2: care in another country.")
    home_clinician: Text | None = None
    ind_number: Code | None = None
    bla_number: Code | None = None

    def details(self) -> PlanDetails:
        data = self.model_dump()
        return PlanDetails(
            **data | {"targets": tuple(self.targets), "processing": tuple(self.processing)}
        )


class PlanOut(Out):
    id: UUID
    episode_id: UUID
    version: int
    source: CellSource
    product_type: ProductType
    targets: list[str]
    sessions: int
    guidance: Guidance
    same_surgical_procedure: bool
    processing: list[ProcessingKind]
    price: Decimal
    currency: str
    payment: Payment
    treatment_country: str
    abroad: bool
    home_clinician: str | None
    ind_number: str | None
    bla_number: str | None
    created_at: datetime
    created_by: str
    regulatory_pathway: RegulatoryPathway
    regulatory_reasons: list[str]

    @classmethod
    def of(cls, plan: TreatmentPlan) -> PlanOut:
        classification = plan.classification
        return cls.model_validate(
            {
                **{name: getattr(plan, name) for name in TreatmentPlan.__dataclass_fields__},
                "regulatory_pathway": classification.pathway,
                "regulatory_reasons": list(classification.reasons),
            }
        )


class ConsentOut(Out):
    id: UUID
    plan_version: int
    template_version: str
    document_hash: str
    signed_name: str
    signed_at: datetime
    witnessed_by: str
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


class DocumentOut(BaseModel):
    title: str
    template_version: str
    plan_version: int
    content_hash: str = Field(description="Send it back with the signature.")
    sections: list[tuple[str, str]]


class ConsentViewOut(BaseModel):
    plan: PlanOut | None
    document: DocumentOut | None
    current: ConsentOut | None = Field(description="The consent that counts now, if any.")
    consents: list[ConsentOut]
    blockers: list[str]

    @classmethod
    def of(cls, view: ConsentView) -> ConsentViewOut:
        document = view.document
        return cls(
            plan=PlanOut.of(view.plan) if view.plan is not None else None,
            document=(
                DocumentOut(
                    title=document.title,
                    template_version=document.template_version,
                    plan_version=document.plan_version,
                    content_hash=document.content_hash,
                    sections=list(document.sections),
                )
                if document is not None
                else None
            ),
            current=_consent(view.current),
            consents=[ConsentOut.model_validate(c) for c in view.consents],
            blockers=[b.message for b in view.blockers],
        )


def _consent(consent: SignedConsent | None) -> ConsentOut | None:
    return ConsentOut.model_validate(consent) if consent is not None else None


class SignConsentIn(Strict):
    version: int = Field(ge=1, description="The episode's version, as read.")
    document_hash: str = Field(pattern="^[0-9a-f]{64}$")
    signed_name: Text = Field(description="Typed by the patient: their full name.")
    agreed: bool = Field(description="The patient read and understood the document.")


class WithdrawConsentIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
