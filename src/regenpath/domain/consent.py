"""The treatment plan and the informed consent generated from it.

The consent document is written from the plan (what will be done and how long each step
takes, the cells, the regulatory status, the risks, the evidence, the alternatives, the cost,
the right to withdraw), versioned by its template and the plan version, and identified by the
SHA-256 of its text. The patient's signature binds to that hash: a plan changed after signing
no longer matches, and the consent no longer counts until a new one is signed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import Guard, GuardFailure, InvalidValue
from regenpath.domain.procedures import Guidance
from regenpath.domain.products import CellSource, ProductType
from regenpath.domain.quality import ProcessingKind
from regenpath.domain.regulatory import Classification, RegulatoryPathway, classify

CONSENT_TEMPLATE_VERSION = "consent-2026.1"

# The risks every consent names (the issue's list, from the clinics' own information).
RISKS = (
    "infection",
    "inflammation",
    "allergic reactions",
    "rejection (donor cells)",
    "improper cell differentiation",
    "no response",
)
_CURRENCY = re.compile(r"^[A-Z]{3}$")  # ISO 4217
_COUNTRY = re.compile(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2


class Payment(StrEnum):
    SELF_PAY = "self_pay"
    INSURED = "insured"


@dataclass(frozen=True, kw_only=True)
class PlanDetails:
    """What the physician plans: the cells, the procedure, the price (COST-1, COST-2)."""

    source: CellSource
    product_type: ProductType
    targets: tuple[str, ...]
    sessions: int
    guidance: Guidance
    same_surgical_procedure: bool
    processing: tuple[ProcessingKind, ...]
    price: Decimal
    currency: str
    payment: Payment
    combined_with_other_article: bool = False
    treatment_country: str = "US"
    abroad: bool = False  # COST-2: treated in another country than the patient lives in
    home_clinician: str | None = None  # who follows the patient up at home, when abroad
    ind_number: str | None = None
    bla_number: str | None = None

    def __post_init__(self) -> None:
        if self.product_type.source is not self.source:
            raise InvalidValue("product_type", f"{self.product_type.label} is not {self.source}")
        if not self.targets or not all(t.strip() for t in self.targets):
            raise InvalidValue("targets", "name at least one target")
        if not 1 <= self.sessions <= 10:
            raise InvalidValue("sessions", "plan 1 to 10 sessions")
        if self.price < 0:
            raise InvalidValue("price", "a price cannot be negative")
        if not _CURRENCY.match(self.currency):
            raise InvalidValue("currency", "an ISO 4217 code such as USD")
        if not _COUNTRY.match(self.treatment_country):
            raise InvalidValue("treatment_country", "an ISO 3166 code such as US or MX")
        if self.abroad and not (self.home_clinician or "").strip():
            raise InvalidValue("home_clinician", "care abroad needs a clinician at home (COST-2)")


@dataclass(frozen=True, kw_only=True)
class TreatmentPlan(PlanDetails):
    """One version of an episode's plan; a change is the next version."""

    id: UUID
    clinic_id: UUID
    episode_id: UUID
    version: int
    created_at: datetime
    created_by: str

    @property
    def classification(self) -> Classification:
        return classify(
            source=self.source,
            product_type=self.product_type,
            processing=self.processing,
            same_surgical_procedure=self.same_surgical_procedure,
            combined_with_other_article=self.combined_with_other_article,
        )


def consent_blockers(plan: TreatmentPlan) -> list[GuardFailure]:
    """REG-3, REG-5: a 351 biologic is consented to only under a recorded IND or BLA."""
    if plan.classification.needs_ind_or_bla and not (plan.ind_number or plan.bla_number):
        return [
            GuardFailure(
                Guard.IND_OR_BLA_REQUIRED,
                "This plan is a 351 biologic: record its IND or BLA number before consent.",
            )
        ]
    return []


@dataclass(frozen=True)
class ConsentDocument:
    template_version: str
    plan_version: int
    title: str
    sections: tuple[tuple[str, str], ...]

    @property
    def content_hash(self) -> str:
        text = json.dumps(
            [self.template_version, self.plan_version, self.title, self.sections],
            ensure_ascii=False,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def _steps(plan: TreatmentPlan) -> str:
    guided = f"guided by {plan.guidance.label.lower()}"
    if plan.source is CellSource.AUTOLOGOUS:
        harvest = (
            "Cells are harvested from your own bone marrow (usually the back of the hip bone) "
            if plan.product_type in (ProductType.BMA, ProductType.BMAC)
            else "Cells are harvested from your own fat tissue (usually the abdomen) "
        )
        harvest += "under local anaesthesia, which takes about 30-60 minutes. "
        processing = (
            "The laboratory then processes them ("
            + ", ".join(step.label.lower() for step in plan.processing)
            + "), which takes about 1-2 hours. "
            if plan.processing
            else ""
        )
    else:
        harvest = "A donor product that has been tested for safety and quality is used. "
        processing = ""
    return (
        harvest
        + processing
        + f"The injection into {', '.join(plan.targets)} is {guided} and takes 15-30 minutes. "
        + f"{plan.sessions} session(s) are planned. For about two weeks afterwards you should "
        "take no anti-inflammatory painkillers (NSAIDs) and avoid strenuous activity. We will "
        "ask you about your pain and function at follow-up visits for up to two years."
    )


def consent_document(plan: TreatmentPlan, clinic_name: str) -> ConsentDocument:
    """The consent document of ``plan``, as the patient reads and signs it."""
    classification = plan.classification
    status = classification.pathway.label
    if classification.pathway is RegulatoryPathway.BIOLOGIC_351:
        status += f" (IND {plan.ind_number})" if plan.ind_number else f" (BLA {plan.bla_number})"
    sections: list[tuple[str, str]] = [
        ("What will be done", _steps(plan)),
        (
            "The cells",
            f"{plan.product_type.label}: "
            + ("your own cells." if plan.source is CellSource.AUTOLOGOUS else "donor cells."),
        ),
        ("Regulatory status", f"{status}. " + " ".join(classification.reasons)),
        ("Risks", "Possible risks include " + ", ".join(RISKS) + "."),
        (
            "The evidence",
            "The evidence for these injections is still evolving: studies are small and "
            "success rates vary widely. We cannot promise that your pain will improve.",
        ),
        (
            "Alternatives",
            "You may choose physiotherapy, pain management or, for some conditions, surgery "
            "instead, or no treatment.",
        ),
        (
            "Cost",
            f"{plan.price:,.2f} {plan.currency} per treatment, "
            + ("paid by you (self-pay)." if plan.payment is Payment.SELF_PAY else "insured.")
            + " In the US a same-day knee injection cost about 5,156 USD on average "
            "(1,150 to 12,000).",
        ),
    ]
    if plan.abroad:
        sections.append(
            (
                "Care abroad",
                f"The treatment takes place in {plan.treatment_country}; "
                f"{plan.home_clinician} follows you up at home.",
            )
        )
    sections.append(
        (
            "Your right to withdraw",
            "You may withdraw your consent at any time before or between treatments, without "
            "giving a reason and without it affecting the rest of your care.",
        )
    )
    return ConsentDocument(
        template_version=CONSENT_TEMPLATE_VERSION,
        plan_version=plan.version,
        title=f"Informed consent: orthobiologic injection at {clinic_name}",
        sections=tuple(sections),
    )


@dataclass(frozen=True)
class SignedConsent:
    id: UUID
    clinic_id: UUID
    episode_id: UUID
    plan_id: UUID
    plan_version: int
    template_version: str
    document_hash: str
    signed_name: str  # typed by the patient on the tablet
    signed_at: datetime
    witnessed_by: str
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None

    def valid_for(self, document: ConsentDocument) -> bool:
        """Signed, not withdrawn, and on the document the current plan generates."""
        return self.withdrawn_at is None and self.document_hash == document.content_hash
