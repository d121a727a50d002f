"""Donors of allogeneic products and their eligibility determination (21 CFR 1271 subpart C).

A donor is known by a code made for tracking, never by name, MRN or SSN (TRK-1, 21 CFR
1271.290(c)); the clinic holding the donor's identity is the supplier, not regenpath.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import (
    Guard,
    GuardFailure,
    InvalidValue,
    TransitionRefused,
    refuse_future,
)
from regenpath.domain.products import DonorEligibility

_DONOR_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")


class DonorTissue(StrEnum):
    BONE_MARROW = "bone_marrow"
    PERIPHERAL_BLOOD = "peripheral_blood"
    CORD_BLOOD = "cord_blood"
    UMBILICAL_CORD = "umbilical_cord"
    PLACENTA = "placenta"
    ADIPOSE = "adipose"

    @property
    def leukocyte_rich(self) -> bool:
        """DON-2 (FDA, Testing HCT/P Donors): viable, leukocyte-rich cells add HTLV-I/II and CMV."""
        return self in (
            DonorTissue.BONE_MARROW,
            DonorTissue.PERIPHERAL_BLOOD,
            DonorTissue.CORD_BLOOD,
        )

    @property
    def neonatal(self) -> bool:
        """DON-4 (21 CFR 1271.80(a)): a donor a month old or less is tested through the birth
        mother's specimen; cord and placental products come from such donors."""
        return self in (DonorTissue.CORD_BLOOD, DonorTissue.UMBILICAL_CORD, DonorTissue.PLACENTA)

    @property
    def haematopoietic(self) -> bool:
        """DON-4 (21 CFR 1271.80(b)): bone marrow and peripheral-blood stem cells may be tested
        up to 30 days before recovery."""
        return self in (DonorTissue.BONE_MARROW, DonorTissue.PERIPHERAL_BLOOD)


class DonorTest(StrEnum):
    HIV1_ANTIBODY = "hiv1_antibody"
    HIV1_NAT = "hiv1_nat"
    HIV2_ANTIBODY = "hiv2_antibody"
    HBSAG = "hbsag"
    ANTI_HBC = "anti_hbc"
    HCV_ANTIBODY = "hcv_antibody"
    HCV_NAT = "hcv_nat"
    TREPONEMA_PALLIDUM = "treponema_pallidum"
    HTLV_I_II = "htlv_i_ii"
    CMV = "cmv"
    WNV_NAT = "wnv_nat"

    @property
    def label(self) -> str:
        return _TEST_LABELS[self]


_TEST_LABELS = {
    DonorTest.HIV1_ANTIBODY: "HIV-1 antibody",
    DonorTest.HIV1_NAT: "HIV-1 NAT",
    DonorTest.HIV2_ANTIBODY: "HIV-2 antibody",
    DonorTest.HBSAG: "HBsAg",
    DonorTest.ANTI_HBC: "Anti-HBc",
    DonorTest.HCV_ANTIBODY: "HCV antibody",
    DonorTest.HCV_NAT: "HCV NAT",
    DonorTest.TREPONEMA_PALLIDUM: "Treponema pallidum",
    DonorTest.HTLV_I_II: "HTLV-I/II",
    DonorTest.CMV: "CMV",
    DonorTest.WNV_NAT: "West Nile virus NAT",
}

# DON-2: every donor, with FDA-licensed, approved or cleared screening assays.
ALL_DONOR_TESTS = frozenset(
    {
        DonorTest.HIV1_ANTIBODY,
        DonorTest.HIV1_NAT,
        DonorTest.HIV2_ANTIBODY,
        DonorTest.HBSAG,
        DonorTest.ANTI_HBC,
        DonorTest.HCV_ANTIBODY,
        DonorTest.HCV_NAT,
        DonorTest.TREPONEMA_PALLIDUM,
    }
)


class TestResult(StrEnum):
    __test__ = False  # a result, not a pytest class

    NONREACTIVE = "nonreactive"
    REACTIVE = "reactive"
    INDETERMINATE = "indeterminate"


class SpecimenSource(StrEnum):
    DONOR = "donor"
    BIRTH_MOTHER = "birth_mother"


class Screening(StrEnum):
    """DON-3 (21 CFR 1271.75): review of medical records and behavioural risk."""

    NOT_DONE = "not_done"
    NO_RISK_FACTORS = "no_risk_factors"
    RISK_FACTOR_FOUND = "risk_factor_found"


@dataclass(frozen=True)
class DonorTestResult:
    id: UUID
    donor_id: UUID
    test: DonorTest
    result: TestResult
    specimen_collected_at: datetime
    specimen_source: SpecimenSource
    assay: str  # the licensed assay's name: DON-2 requires FDA-licensed/cleared assays
    recorded_by: str

    def __post_init__(self) -> None:
        if not self.assay.strip():
            raise InvalidValue("assay", "name the FDA-licensed, approved or cleared assay")


@dataclass
class Donor:
    id: UUID
    clinic_id: UUID
    code: str
    tissue: DonorTissue
    living: bool
    recovered_at: datetime  # when the cells or tissue were recovered from the donor
    screening: Screening
    created_at: datetime
    eligibility: DonorEligibility = DonorEligibility.INCOMPLETE
    determined_at: datetime | None = None
    determined_by: str | None = None
    determination_reason: str | None = None
    version: int = 1

    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        clinic_id: UUID,
        code: str,
        tissue: DonorTissue,
        living: bool,
        recovered_at: datetime,
        screening: Screening,
        now: datetime,
    ) -> Donor:
        """TRK-1 (21 CFR 1271.290(c)): the code is for tracking only, so it may hold letters,
        digits and dashes and nothing that reads as a name, MRN or SSN."""
        cleaned = code.strip().upper()
        if not _DONOR_CODE.match(cleaned):
            raise InvalidValue("code", "3-32 capital letters, digits or dashes")
        if re.fullmatch(r"\d{3}-?\d{2}-?\d{4}", cleaned):
            raise InvalidValue("code", "a donor code must not be a social security number")
        refuse_future("recovered_at", recovered_at, now, "the recovery")
        return cls(
            id=id,
            clinic_id=clinic_id,
            code=cleaned,
            tissue=tissue,
            living=living,
            recovered_at=recovered_at,
            screening=screening,
            created_at=now,
        )


def required_tests(donor: Donor) -> frozenset[DonorTest]:
    """DON-2: the tests every donor needs, plus HTLV-I/II and CMV for viable leukocyte-rich
    cells, plus West Nile virus NAT for a living donor recovered from 1 June to 31 October."""
    tests = set(ALL_DONOR_TESTS)
    if donor.tissue.leukocyte_rich:
        tests |= {DonorTest.HTLV_I_II, DonorTest.CMV}
    recovered: date = donor.recovered_at.date()
    if donor.living and date(recovered.year, 6, 1) <= recovered <= date(recovered.year, 10, 31):
        tests.add(DonorTest.WNV_NAT)
    return frozenset(tests)


def specimen_window(donor: Donor) -> tuple[datetime, datetime]:
    """DON-4 (21 CFR 1271.80(b)): a specimen taken at recovery or within 7 days before or
    after it; bone marrow and peripheral-blood stem cells up to 30 days before. Both ends
    are inclusive."""
    before = timedelta(days=30) if donor.tissue.haematopoietic else timedelta(days=7)
    return donor.recovered_at - before, donor.recovered_at + timedelta(days=7)


def specimen_problem(donor: Donor, result: DonorTestResult) -> str | None:
    """What is wrong with the specimen behind a result under DON-4, or None."""
    earliest, latest = specimen_window(donor)
    if not earliest <= result.specimen_collected_at <= latest:
        return (
            f"{result.test.label}: specimen taken outside the window "
            f"{earliest:%d %b %Y %H:%M} - {latest:%d %b %Y %H:%M} (DON-4)"
        )
    wanted = SpecimenSource.BIRTH_MOTHER if donor.tissue.neonatal else SpecimenSource.DONOR
    if result.specimen_source is not wanted:
        return f"{result.test.label}: the specimen must be the {wanted.replace('_', ' ')}'s (DON-4)"
    return None


@dataclass(frozen=True)
class DonorAssessment:
    """What the record shows, test by test; the responsible person decides on it."""

    missing: list[DonorTest] = field(default_factory=list)
    mistimed: list[str] = field(default_factory=list)
    reactive: list[DonorTest] = field(default_factory=list)
    for_review: list[str] = field(default_factory=list)
    screening: Screening = Screening.NOT_DONE

    @property
    def supports(self) -> DonorEligibility:
        """The determination the record supports: ineligible on any reactive test (CMV aside)
        or risk factor; incomplete while anything is missing, mistimed or indeterminate."""
        if self.reactive or self.screening is Screening.RISK_FACTOR_FOUND:
            return DonorEligibility.INELIGIBLE
        if self.missing or self.mistimed or self.screening is Screening.NOT_DONE:
            return DonorEligibility.INCOMPLETE
        if self.for_review:
            return DonorEligibility.INCOMPLETE
        return DonorEligibility.ELIGIBLE

    @property
    def reasons(self) -> list[str]:
        reasons = [f"{t.label}: no valid result on record (DON-2)" for t in self.missing]
        reasons += self.mistimed
        reasons += [f"{t.label}: reactive" for t in self.reactive]
        reasons += self.for_review
        if self.screening is Screening.NOT_DONE:
            reasons.append("Screening of records and behavioural risk not done (DON-3)")
        elif self.screening is Screening.RISK_FACTOR_FOUND:
            reasons.append("Screening found a risk factor (DON-3)")
        return reasons


def assess_donor(donor: Donor, results: Iterable[DonorTestResult]) -> DonorAssessment:
    """Check the donor's results against DON-2 (which tests), DON-3 (screening) and DON-4
    (specimen timing and source). The latest result of each test counts. A reactive CMV goes
    to the establishment's release SOP rather than disqualifying (DON-2 [U])."""
    latest: dict[DonorTest, DonorTestResult] = {}
    for result in sorted(results, key=lambda r: r.specimen_collected_at):
        latest[result.test] = result
    needed = required_tests(donor)
    missing: list[DonorTest] = []
    mistimed: list[str] = []
    reactive: list[DonorTest] = []
    review: list[str] = []
    for test in sorted(needed):
        found = latest.get(test)
        if found is None:
            missing.append(test)
            continue
        result = found
        problem = specimen_problem(donor, result)
        if problem is not None:
            mistimed.append(problem)
        elif result.result is TestResult.INDETERMINATE:
            review.append(f"{test.label}: indeterminate, repeat the test")
        elif result.result is TestResult.REACTIVE:
            if test is DonorTest.CMV:
                review.append("CMV reactive: decide under the release SOP (DON-2)")
            else:
                reactive.append(test)
    return DonorAssessment(missing, mistimed, reactive, review, donor.screening)


def determine(
    donor: Donor,
    assessment: DonorAssessment,
    decision: DonorEligibility,
    *,
    by: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Record the responsible person's determination (DON-7, 21 CFR 1271.265(c); 1271.50).

    ELIGIBLE only when the record supports it; a reactive CMV needs a written reason under the
    release SOP. INELIGIBLE and INCOMPLETE may always be recorded.
    """
    if decision is DonorEligibility.NOT_REQUIRED:
        raise InvalidValue(
            "decision", "a donor's determination is eligible, ineligible or incomplete"
        )
    if decision is DonorEligibility.ELIGIBLE:
        supported = assessment.supports
        cmv_only = (
            supported is DonorEligibility.INCOMPLETE
            and not (assessment.missing or assessment.mistimed)
            and assessment.screening is Screening.NO_RISK_FACTORS
            and all(item.startswith("CMV") for item in assessment.for_review)
        )
        if supported is not DonorEligibility.ELIGIBLE and not (cmv_only and (reason or "").strip()):
            raise TransitionRefused(
                [
                    GuardFailure(Guard.DONOR_DETERMINATION_UNSUPPORTED, message)
                    for message in assessment.reasons
                ]
                or [GuardFailure(Guard.DONOR_DETERMINATION_UNSUPPORTED, "Not supported.")]
            )
    donor.eligibility = decision
    donor.determined_at = now
    donor.determined_by = by
    donor.determination_reason = (reason or "").strip() or None
