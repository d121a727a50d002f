"""The product rules by ID: ISBT-2 check characters, DON-2/4/5/6/7, EXP-1, QC-1, COI-1."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regenpath.domain.custody import CustodyKind, custody_event
from regenpath.domain.donors import (
    Donor,
    DonorTest,
    DonorTestResult,
    DonorTissue,
    Screening,
    SpecimenSource,
    TestResult,
    assess_donor,
    determine,
    required_tests,
)
from regenpath.domain.errors import Guard, InvalidValue, TransitionRefused
from regenpath.domain.isbt128 import CHARSET, Din, check_character, parse_din
from regenpath.domain.procedures import (
    Anaesthesia,
    HarvestRecord,
    HarvestSite,
    HarvestSource,
    Side,
)
from regenpath.domain.products import DonorEligibility, Product, ProductStatus, ProductType
from regenpath.domain.quality import (
    DEFAULT_RELEASE_SPECIFICATIONS,
    FindingStatus,
    QcOutcome,
    QcResult,
    QcTest,
    evaluate_qc,
    qc_failures,
)
from tests.support import START
from tests.unit.builders import harvest_product

RECOVERY = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_ISBT_2_the_published_check_character() -> None:
    assert check_character("ABCDE27000069") == "C"
    assert parse_din("ABCDE 27 000069 C") == Din("ABCDE", 27, 69)


din_codes = st.builds(
    lambda f, y, n: Din(f, y, n).code,
    st.from_regex(r"[A-Z][A-Z0-9]{4}", fullmatch=True),
    st.integers(0, 99),
    st.integers(1, 999_999),
)


@given(din_codes, st.integers(0, 12), st.sampled_from(CHARSET))
def test_ISBT_2_any_single_character_substitution_is_detected(
    code: str, position: int, replacement: str
) -> None:
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    assert check_character(changed) != check_character(code)


@given(din_codes)
def test_ISBT_2_a_din_reads_back_from_its_eye_readable_form(code: str) -> None:
    din = parse_din(code)
    assert parse_din(din.eye_readable) == din


def test_ISBT_2_a_wrong_check_character_names_the_field() -> None:
    with pytest.raises(InvalidValue) as error:
        parse_din("ABCDE27000069D", "scanned_din")
    assert error.value.field == "scanned_din"


def donor(tissue: DonorTissue = DonorTissue.UMBILICAL_CORD, living: bool = False) -> Donor:
    return Donor.register(
        id=UUID(int=1),
        clinic_id=UUID(int=2),
        code="DNR-TEST-1",
        tissue=tissue,
        living=living,
        recovered_at=RECOVERY,
        screening=Screening.NO_RISK_FACTORS,
        now=RECOVERY + timedelta(days=1),
    )


def results(d: Donor, at: datetime, **reactive: bool) -> list[DonorTestResult]:
    source = SpecimenSource.BIRTH_MOTHER if d.tissue.neonatal else SpecimenSource.DONOR
    return [
        DonorTestResult(
            id=UUID(int=100 + n),
            donor_id=d.id,
            test=test,
            result=TestResult.REACTIVE if reactive.get(test.value) else TestResult.NONREACTIVE,
            specimen_collected_at=at,
            specimen_source=source,
            assay="licensed assay",
            recorded_by="Lab",
        )
        for n, test in enumerate(sorted(required_tests(d)))
    ]


def test_DON_2_leukocyte_rich_cells_add_htlv_and_cmv_and_summer_living_donors_wnv() -> None:
    assert DonorTest.CMV not in required_tests(donor(DonorTissue.UMBILICAL_CORD))
    assert {DonorTest.HTLV_I_II, DonorTest.CMV} <= required_tests(donor(DonorTissue.CORD_BLOOD))
    living = replace(donor(DonorTissue.BONE_MARROW, living=True), recovered_at=RECOVERY)
    assert DonorTest.WNV_NAT not in required_tests(living)  # 1 March
    summer = replace(living, recovered_at=datetime(2026, 6, 1, tzinfo=UTC))
    assert DonorTest.WNV_NAT in required_tests(summer)


@pytest.mark.parametrize(
    ("tissue", "offset", "in_window"),
    [
        (DonorTissue.UMBILICAL_CORD, timedelta(days=-7), True),
        (DonorTissue.UMBILICAL_CORD, timedelta(days=-7, seconds=-1), False),
        (DonorTissue.UMBILICAL_CORD, timedelta(days=7), True),
        (DonorTissue.UMBILICAL_CORD, timedelta(days=7, seconds=1), False),
        (DonorTissue.BONE_MARROW, timedelta(days=-30), True),
        (DonorTissue.BONE_MARROW, timedelta(days=-30, seconds=-1), False),
    ],
)
def test_DON_4_specimen_timing_boundaries(
    tissue: DonorTissue, offset: timedelta, in_window: bool
) -> None:
    d = donor(tissue)
    assessment = assess_donor(d, results(d, RECOVERY + offset))
    assert (assessment.supports is DonorEligibility.ELIGIBLE) is in_window
    if not in_window:
        assert assessment.mistimed and all("DON-4" in m for m in assessment.mistimed)


def test_DON_4_a_cord_donor_is_tested_through_the_birth_mother() -> None:
    d = donor(DonorTissue.UMBILICAL_CORD)
    own = [replace(r, specimen_source=SpecimenSource.DONOR) for r in results(d, RECOVERY)]
    assert assess_donor(d, own).supports is DonorEligibility.INCOMPLETE


def test_DON_6_a_reactive_test_makes_the_donor_ineligible_and_eligible_is_refused() -> None:
    d = donor()
    assessment = assess_donor(d, results(d, RECOVERY, hbsag=True))
    assert assessment.supports is DonorEligibility.INELIGIBLE
    with pytest.raises(TransitionRefused) as refusal:
        determine(d, assessment, DonorEligibility.ELIGIBLE, by="Lab", reason=None, now=RECOVERY)
    assert refusal.value.guard is Guard.DONOR_DETERMINATION_UNSUPPORTED
    assert d.eligibility is DonorEligibility.INCOMPLETE


def test_DON_2_a_missing_test_keeps_the_determination_incomplete() -> None:
    d = donor()
    assessment = assess_donor(d, results(d, RECOVERY)[1:])
    assert assessment.supports is DonorEligibility.INCOMPLETE
    assert assessment.missing


def donor_product(eligibility: DonorEligibility, hold: timedelta = timedelta(days=30)) -> Product:
    return Product.from_donor(
        id=UUID(int=9),
        clinic_id=UUID(int=2),
        donor_id=UUID(int=1),
        donor_eligibility=eligibility,
        collected_at=START,
        max_hold=hold,
        din="W999926000009",
        product_type=ProductType.UMBILICAL_CORD_MSC,
    )


def test_DON_5_a_donor_product_is_received_into_quarantine() -> None:
    assert donor_product(DonorEligibility.ELIGIBLE).status is ProductStatus.QUARANTINE


def test_DON_5_quarantine_holds_until_the_determination_is_complete() -> None:
    product = donor_product(DonorEligibility.INCOMPLETE)
    with pytest.raises(TransitionRefused) as refusal:
        product.release(START, [])
    assert [f.guard for f in refusal.value.failures] == [Guard.DONOR_ELIGIBILITY_INCOMPLETE]
    assert product.status is ProductStatus.QUARANTINE


def test_DON_7_the_release_gate_lists_every_reason() -> None:
    product = donor_product(DonorEligibility.INELIGIBLE, hold=timedelta(hours=1))
    spec = DEFAULT_RELEASE_SPECIFICATIONS[ProductType.UMBILICAL_CORD_MSC]
    low = QcResult(UUID(int=5), product.id, QcTest.VIABILITY, START, "Lab", value=55.0)
    with pytest.raises(TransitionRefused) as refusal:
        product.release(START + timedelta(hours=1), qc_failures(evaluate_qc(spec, [low])))
    guards = [f.guard for f in refusal.value.failures]
    assert Guard.DONOR_INELIGIBLE in guards
    assert Guard.QC_SPECIFICATION_NOT_MET in guards  # viability 55 % < 70 % (QC-1)
    assert Guard.PRODUCT_EXPIRED in guards
    assert product.status is ProductStatus.QUARANTINE


def test_EXP_1_expiry_counts_from_collection_and_shows_on_the_shelf() -> None:
    product = harvest_product(id=UUID(int=7), max_hold=timedelta(hours=48))
    assert product.expires_at == START + timedelta(hours=48)
    assert product.status_at(START + timedelta(hours=47, minutes=59)) is ProductStatus.IN_PROCESSING
    assert product.status_at(START + timedelta(hours=48)) is ProductStatus.EXPIRED


def test_QC_1_a_value_outside_its_physical_range_names_the_field() -> None:
    with pytest.raises(InvalidValue) as error:
        QcResult(UUID(int=5), UUID(int=7), QcTest.VIABILITY, START, "Lab", value=140.0)
    assert error.value.field == "value"


def test_QC_3_a_positive_culture_fails_the_specification_and_a_late_one_is_pending() -> None:
    spec = DEFAULT_RELEASE_SPECIFICATIONS[ProductType.BMAC]
    statuses = {f.test: f.status for f in evaluate_qc(spec, [])}
    assert statuses[QcTest.STERILITY_CULTURE] is FindingStatus.PENDING
    assert statuses[QcTest.VIABILITY] is FindingStatus.MISSING
    growth = QcResult(
        UUID(int=6), UUID(int=7), QcTest.STERILITY_CULTURE, START, "Lab", outcome=QcOutcome.POSITIVE
    )
    statuses = {f.test: f.status for f in evaluate_qc(spec, [growth])}
    assert statuses[QcTest.STERILITY_CULTURE] is FindingStatus.FAIL


def test_COI_1_a_custody_event_cannot_predate_the_collection() -> None:
    with pytest.raises(InvalidValue) as error:
        custody_event(
            id=UUID(int=3),
            product_id=UUID(int=7),
            collected_at=START,
            kind=CustodyKind.MOVED,
            from_party=None,
            to_party="Lab",
            location="Fridge 1",
            occurred_at=START - timedelta(minutes=1),
            recorded_by="Lab",
            now=START,
        )
    assert error.value.field == "occurred_at"


def test_REC_1_a_harvest_records_when_it_started_and_ended_not_one_instant() -> None:
    """Issue 19: a harvest form left at "now" was stored as an instant."""
    harvest = HarvestRecord(
        id=UUID(int=1),
        episode_id=UUID(int=2),
        cycle_number=1,
        product_id=UUID(int=3),
        source=HarvestSource.BONE_MARROW,
        site=HarvestSite.POSTERIOR_ILIAC_CREST,
        side=Side.BILATERAL,
        anaesthesia=Anaesthesia.LOCAL,
        volume_ml=60.0,
        started_at=START,
        ended_at=START + timedelta(minutes=35),
        operator="Dr. Test",
    )
    assert harvest.duration == timedelta(minutes=35)
    for ended in (START, START - timedelta(minutes=1)):
        with pytest.raises(InvalidValue) as refused:
            replace(harvest, ended_at=ended)
        assert refused.value.field == "ended_at"
