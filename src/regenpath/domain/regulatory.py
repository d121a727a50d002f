"""The regulatory classification of a planned product and procedure (US 21 CFR 1271).

``classify`` reads the plan, never the marketing: what the cells are, where they come from,
what is done to them, whether they go back in the same surgical procedure, and whether the use
is homologous. Where the law's application is uncertain it says ``needs_regulatory_review``
instead of guessing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from regenpath.domain.products import CellSource, ProductType
from regenpath.domain.quality import ProcessingKind


class RegulatoryPathway(StrEnum):
    NOT_HCTP = "not_hctp"  # not a human cell or tissue product (REG-1)
    SSP_EXEMPT = "ssp_exempt"  # the same-surgical-procedure exception (REG-2)
    HCTP_361 = "hctp_361"  # regulated under section 361 alone (REG-3)
    BIOLOGIC_351 = "biologic_351"  # a biologic: an IND or a BLA is required (REG-3, REG-5)
    NEEDS_REGULATORY_REVIEW = "needs_regulatory_review"

    @property
    def label(self) -> str:
        return {
            "not_hctp": "Not an HCT/P (21 CFR 1271.3(d))",
            "ssp_exempt": "Same surgical procedure exception (21 CFR 1271.15(b))",
            "hctp_361": "361 HCT/P (21 CFR 1271.10(a))",
            "biologic_351": "Biologic under section 351: IND or BLA required",
            "needs_regulatory_review": "Needs regulatory review",
        }[self.value]


# REG-2: the 2014 draft guidance allowed only rinsing, cleansing, labelling and temporary
# storage under the SSP exception; washing is the rinse of this vocabulary.
SSP_STEPS = frozenset({ProcessingKind.WASHING})
# REG-4: steps that leave cells' relevant biological characteristics (or structural tissue's
# original characteristics) unaltered, as this project reads the guidance; enzymatic
# digestion (SVF isolation) and expansion are more than minimal manipulation.
MINIMAL_STEPS = frozenset(
    {
        ProcessingKind.WASHING,
        ProcessingKind.FILTRATION,
        ProcessingKind.CENTRIFUGATION,
        ProcessingKind.CONCENTRATION,
        ProcessingKind.THAWING,
        ProcessingKind.DILUTION,
    }
)
# REG-5: cord and Wharton's-jelly products in a joint or the spine are non-homologous.
NON_HOMOLOGOUS_IN_ORTHOPAEDICS = frozenset({ProductType.CORD_BLOOD, ProductType.UMBILICAL_CORD_MSC})


@dataclass(frozen=True)
class Classification:
    pathway: RegulatoryPathway
    reasons: tuple[str, ...]

    @property
    def needs_ind_or_bla(self) -> bool:
        return self.pathway is RegulatoryPathway.BIOLOGIC_351


def classify(  # noqa: PLR0911 -- one return per rule, in the order the rules apply
    *,
    source: CellSource,
    product_type: ProductType,
    processing: Collection[ProcessingKind],
    same_surgical_procedure: bool,
    combined_with_other_article: bool = False,
) -> Classification:
    """REG-1..REG-5 of docs/rules.md on the planned product and procedure."""
    steps = frozenset(processing)
    if source is CellSource.ALLOGENEIC and product_type in NON_HOMOLOGOUS_IN_ORTHOPAEDICS:
        return Classification(
            RegulatoryPathway.BIOLOGIC_351,
            (
                "REG-5: cord and Wharton's-jelly cells in a joint or the spine are a "
                "non-homologous use; an allogeneic MSC injection needs an IND or a BLA.",
            ),
        )
    beyond_minimal = sorted(steps - MINIMAL_STEPS)
    if product_type is ProductType.ADIPOSE_SVF or ProcessingKind.ENZYMATIC_DIGESTION in steps:
        return Classification(
            RegulatoryPathway.BIOLOGIC_351,
            (
                "REG-4: isolating the stromal vascular fraction from adipose (structural tissue) "
                "is more than minimal manipulation, so it is a 351 biologic.",
            ),
        )
    if combined_with_other_article:
        return Classification(
            RegulatoryPathway.BIOLOGIC_351,
            (
                "REG-3(3): combined with another article (beyond water, crystalloids or a "
                "sterilising, preserving or storage agent), so not a 361 HCT/P.",
            ),
        )
    if source is CellSource.AUTOLOGOUS and product_type is ProductType.BMA and not steps:
        return Classification(
            RegulatoryPathway.NOT_HCTP,
            (
                "REG-1: minimally manipulated bone marrow for homologous use, not combined with "
                "another article, is excluded from the HCT/P definition.",
            ),
        )
    if source is CellSource.AUTOLOGOUS and same_surgical_procedure:
        if steps <= SSP_STEPS:
            return Classification(
                RegulatoryPathway.SSP_EXEMPT,
                (
                    "REG-2: autologous cells removed and implanted in the same surgical "
                    "procedure, processed only by rinsing or cleansing.",
                ),
            )
        return Classification(
            RegulatoryPathway.NEEDS_REGULATORY_REVIEW,
            (
                "REG-2: the same surgical procedure, but with "
                + ", ".join(s.label.lower() for s in sorted(steps - SSP_STEPS))
                + "; whether a concentrated product keeps the exception is uncertain.",
            ),
        )
    if beyond_minimal:
        return Classification(
            RegulatoryPathway.BIOLOGIC_351,
            (
                "REG-3(1): more than minimal manipulation ("
                + ", ".join(s.label.lower() for s in beyond_minimal)
                + "), so a 351 biologic.",
            ),
        )
    if source is CellSource.AUTOLOGOUS:
        return Classification(
            RegulatoryPathway.HCTP_361,
            (
                "REG-3: minimally manipulated, homologous, not combined, autologous: a 361 "
                "HCT/P; the establishment registers and lists it.",
            ),
        )
    return Classification(
        RegulatoryPathway.NEEDS_REGULATORY_REVIEW,
        (
            "REG-3(4): an allogeneic product with a possible systemic effect or dependence on "
            "living cells' metabolism: review before use.",
        ),
    )
