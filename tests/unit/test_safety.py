"""Adverse events and the reporting clocks (regulatory.md sections 1.3 and 4), by rule ID."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from regenpath.adapters.rulesets import load_ae_catalogue
from regenpath.domain.errors import InvalidValue
from regenpath.domain.safety import (
    AdverseEvent,
    AeOutcome,
    ConcernLevel,
    PatientReport,
    Relatedness,
    Seriousness,
    TriageOutcome,
    deviation_report_due,
    open_report,
    reports_due,
)

CATALOGUE = load_ae_catalogue()
CONSENTED = date(2026, 2, 1)
TODAY = date(2026, 3, 10)
INFECTION = AdverseEvent(
    id=UUID(int=1),
    clinic_id=UUID(int=2),
    episode_id=UUID(int=3),
    term=CATALOGUE.term("INFECTION"),
    onset_on=date(2026, 3, 4),
    grade=3,
    seriousness=frozenset({Seriousness.HOSPITALIZATION}),
    outcome=AeOutcome.RECOVERING,
    discovered_at=datetime(2026, 3, 5, 16, 0, tzinfo=UTC),
    recorded_by="Dr Test",
    related_product=Relatedness.PROBABLE,
)


def test_AE_5_the_catalogue_has_its_terms_and_baselines() -> None:
    assert CATALOGUE.term("post_flare").baseline_rate == pytest.approx(0.039)
    assert CATALOGUE.term("SEPTIC_ARTHRITIS").communicable
    assert not CATALOGUE.term("HARVEST_HEMATOMA").communicable
    with pytest.raises(InvalidValue) as unknown:
        CATALOGUE.term("HEADACHE")
    assert unknown.value.field == "term"


def test_AE_4_RPT_1_a_communicable_disease_with_a_serious_outcome_is_due_in_15_days() -> None:
    [due] = reports_due(INFECTION, date(2026, 3, 5), under_ind=False)
    assert (due.rule.id, due.rule.form.value, due.due_on) == (
        "RPT-1",
        "FDA 3500A",
        date(2026, 3, 20),
    )
    # Day 15 is the last day; day 16 is late (checked by the dashboard as today > due_on).
    assert due.due_on - due.discovered_on == date(2026, 3, 20) - date(2026, 3, 5)
    mild = replace(INFECTION, seriousness=frozenset(), grade=2)
    assert reports_due(mild, date(2026, 3, 5), under_ind=False) == []
    flare = replace(INFECTION, term=CATALOGUE.term("POST_FLARE"))
    assert reports_due(flare, date(2026, 3, 5), under_ind=False) == []


def test_RPT_1_calendar_days_do_not_pause_for_weekends_and_start_in_the_clinics_calendar() -> None:
    late_evening = datetime(2026, 3, 7, 5, 30, tzinfo=UTC)  # Friday 6 March in Chicago
    local_day = late_evening.astimezone(ZoneInfo("America/Chicago")).date()
    assert local_day == date(2026, 3, 6)
    [due] = reports_due(INFECTION, local_day, under_ind=False)
    assert due.due_on == date(2026, 3, 21)  # a Saturday: no moving to Monday


def test_RPT_2_a_distributed_deviation_is_due_in_45_days() -> None:
    due = deviation_report_due(True, date(2026, 1, 10))
    assert due is not None and due.due_on == date(2026, 2, 24) and due.rule.form.value == "FDA 3486"
    assert deviation_report_due(False, date(2026, 1, 10)) is None


def test_REC_1_a_report_is_submitted_no_later_than_today_and_no_earlier_than_its_discovery() -> (
    None
):
    due = deviation_report_due(True, date(2026, 3, 1))
    assert due is not None
    report = open_report(
        due,
        id=UUID(int=9),
        clinic_id=UUID(int=2),
        subject_type="deviation",
        subject_id=UUID(int=8),
        opened_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    for when in (date(2030, 1, 1), TODAY.replace(day=11), date(2026, 2, 28)):
        with pytest.raises(InvalidValue) as refused:
            report.submitted(when, "MW-1", TODAY)
        assert refused.value.field == "submitted_on"
    assert report.submitted(TODAY, " MW-1 ", TODAY).reference == "MW-1"


def test_AE_1_a_resolution_cannot_be_in_the_future() -> None:
    with pytest.raises(InvalidValue) as refused:
        replace(INFECTION, resolved_on=date(2030, 1, 1)).check(CONSENTED, TODAY)
    assert refused.value.field == "resolved_on"


def test_RPT_3_ind_reports_in_7_or_15_days() -> None:
    unexpected = replace(INFECTION, term=CATALOGUE.term("NEOPLASM"), unexpected=True)
    [due] = reports_due(unexpected, date(2026, 3, 5), under_ind=True)
    assert (due.rule.id, due.rule.days) == ("RPT-3", 15)
    fatal = replace(
        unexpected,
        grade=5,
        outcome=AeOutcome.FATAL,
        seriousness=frozenset({Seriousness.DEATH}),
    )
    assert [d.rule.days for d in reports_due(fatal, date(2026, 3, 5), under_ind=True)] == [7]
    assert reports_due(unexpected, date(2026, 3, 5), under_ind=False) == []
    unrelated = replace(unexpected, related_product=Relatedness.UNLIKELY)
    assert reports_due(unrelated, date(2026, 3, 5), under_ind=True) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"grade": 6}, "grade"),
        ({"onset_on": date(2026, 1, 31)}, "onset_on"),
        ({"resolved_on": date(2026, 3, 3)}, "resolved_on"),
        ({"grade": 5}, "outcome"),
        ({"outcome": AeOutcome.FATAL, "grade": 5}, "seriousness"),
    ],
)
def test_AE_1_AE_2_an_impossible_record_names_its_field(changes, field) -> None:
    with pytest.raises(InvalidValue) as refused:
        replace(INFECTION, **changes).check(CONSENTED, TODAY)
    assert refused.value.field == field


def _patient_report(**changes: object) -> PatientReport:
    values: dict[str, object] = {
        "id": UUID(int=1),
        "clinic_id": UUID(int=2),
        "patient_id": UUID(int=3),
        "episode_id": UUID(int=4),
        "reported_at": datetime(2026, 3, 20, 15, 0, tzinfo=UTC),
        "description": "Swollen and hot since yesterday",
        "concern": ConcernLevel.VERY_MUCH,
    }
    return PatientReport(**(values | changes))  # type: ignore[arg-type]


def test_a_patients_report_needs_words_and_no_start_in_the_future() -> None:
    _patient_report(started_on=date(2026, 3, 19)).check(today=date(2026, 3, 20))
    for changes, field in (
        ({"description": "  "}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"started_on": date(2026, 3, 21)}, "started_on"),
    ):
        with pytest.raises(InvalidValue) as refused:
            _patient_report(**changes).check(today=date(2026, 3, 20))
        assert refused.value.field == field


def test_a_report_is_triaged_once_and_not_an_event_says_why() -> None:
    report = _patient_report()
    now = datetime(2026, 3, 21, 9, 0, tzinfo=UTC)
    with pytest.raises(InvalidValue) as refused:
        report.close(TriageOutcome.NOT_AN_EVENT, now, "Nurse", note=" ")
    assert refused.value.field == "note"
    report.close(TriageOutcome.NOT_AN_EVENT, now, "Nurse", note="Expected bruising")
    assert (report.triage, report.triaged_by) == (TriageOutcome.NOT_AN_EVENT, "Nurse")
    with pytest.raises(InvalidValue):
        report.close(TriageOutcome.ADVERSE_EVENT, now, "Physician")
