"""The outcome report over a small registry built through the API (issue 5), read by DuckDB
from the live database on both databases and from its Parquet snapshot: the same figures."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from regenpath.adapters.analytics import AnalyticsError, OutcomeData
from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app
from regenpath.services.outcomes import OutcomeReport, outcome_report
from tests.integration.pathway import bedside_check, inject, new_episode, walk
from tests.integration.test_api_followup import answer, follow_up
from tests.integration.test_cli import regenpath
from tests.integration.test_prescreen import ANSWERS
from tests.support import TestClock

RMDQ_NONE = {str(n): 0 for n in range(1, 25)}


def treat(client: TestClient, mrn: str, born: str = "1961-04-02") -> dict[str, Any]:
    patient, episode = new_episode(client, mrn, "Registry", mrn, born)
    released = walk(client, episode, until="released")
    bedside_check(client, released, patient)
    assert inject(client, released).status_code == 201
    return follow_up(client, episode["id"])


def on_target_day(clock: TestClock, visit: dict[str, Any]) -> None:
    clock.current = datetime.combine(date.fromisoformat(visit["due_on"]), time(15), tzinfo=UTC)


@pytest.fixture
def registry(client: TestClient, clock: TestClock) -> date:
    """Three treated lumbar-disc patients (back pain 6 at baseline) and one only referred:
    A responds at 2 weeks (3) and loses it at 6 weeks (5); B responds at 6 weeks only (4);
    C never answers. Returns a day after the 6-week windows have closed."""
    # Born a day apart: "Registry REG-A" and "Registry REG-B" on one birthday are one person
    # to the look-alike check (ID-2).
    records = [
        treat(client, mrn, f"1961-04-0{n}") for n, mrn in enumerate(("REG-A", "REG-B", "REG-C"), 2)
    ]
    new_episode(client, "REG-D", "Registry", "D", "1970-01-01")
    answers = {0: {"REG-A": 3, "REG-B": 5}, 1: {"REG-A": 5, "REG-B": 4}}
    for index, by_patient in answers.items():
        on_target_day(clock, records[0]["visits"][index])
        for record, mrn in zip(records, ("REG-A", "REG-B", "REG-C"), strict=True):
            if mrn in by_patient:
                visit = record["visits"][index]
                pain = {"back": by_patient[mrn], "leg": 1}
                assert answer(client, visit, "nrs-spine", pain).status_code == 201
                assert answer(client, visit, "rmdq", RMDQ_NONE).status_code == 201
    closes = date.fromisoformat(records[0]["visits"][1]["closes_on"])
    return closes + timedelta(days=1)


def check(report: OutcomeReport) -> None:
    two_weeks, six_weeks = report.time_points[:2]
    assert (two_weeks.label, six_weeks.label) == ("2 weeks", "6 weeks")
    assert (two_weeks.n_due, two_weeks.n_completed) == (3, 2)
    primary = two_weeks.responders[0]
    assert primary.definition.code == "nrs-30pct"
    assert (primary.complete_case.k, primary.complete_case.n) == (1, 2)
    assert (primary.worst_case.k, primary.worst_case.n) == (1, 3)
    assert (primary.best_case.k, primary.best_case.n) == (2, 3)
    assert six_weeks.responders[0].responders == 1  # B: 6 -> 4 is 33 %
    later = report.time_points[2]
    assert later.n_due == 0 and later.n_not_yet_due == 3  # 3 months: not missing, not due
    assert later.responders[0].worst_case.rate is None
    durability = report.durability
    assert (durability.n_responders, durability.n_lost) == (2, 1)  # A lost it, B is censored
    steps = {step.step: step.count for step in report.flow}
    assert (steps["referred"], steps["evaluated"], steps["treated"]) == (4, 3, 3)
    assert steps["followed at 2 weeks, 2 analysed"] == 2
    assert report.n_cohort == 3
    assert report.stratum_time_point == "6 weeks"  # no 12-month check-in is due yet
    source_row = next(r for r in report.by_stratum if r.stratum == "cell_source")
    assert (source_row.value, source_row.n_due, source_row.worst_case.k) == (
        "autologous bone marrow",
        3,
        1,
    )


def test_the_report_reads_the_live_database(
    registry: date, database_url: str, tmp_path: Path, client: TestClient
) -> None:
    source = OutcomeData.live(database_url)
    try:
        report = outcome_report(source, registry)
        check(report)
        assert report.strata["cell_source"] == ["autologous bone marrow"]
        narrowed = outcome_report(source, registry, {"cell_source": "allogeneic"})
        assert narrowed.n_cohort == 0 and narrowed.time_points == []
        with pytest.raises(AnalyticsError, match="not a stratum"):
            outcome_report(source, registry, {"name": "x"})
        own = UUID(client.clinic["id"])  # type: ignore[attr-defined]
        assert outcome_report(source, registry, clinic_ids={own}).n_cohort == 3
        elsewhere = outcome_report(source, registry, clinic_ids={uuid4()})
        assert elsewhere.n_cohort == 0 and elsewhere.flow[0].count == 0
        assert elsewhere.strata["clinic"] == []
        written = source.export_parquet(tmp_path / "snapshot")
    finally:
        source.close()
    assert written == {"flow": 4, "cohort": 3, "visits": 27, "events": 0}
    snapshot = OutcomeData.snapshot(tmp_path / "snapshot")
    try:
        check(outcome_report(snapshot, registry))
    finally:
        snapshot.close()


def test_a_missing_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="regenpath export parquet"):
        OutcomeData.snapshot(tmp_path)


def test_the_api_serves_the_report_to_the_registry_analyst(
    registry: date, client: TestClient
) -> None:
    analyst = client.as_role(Role.REGISTRY_ANALYST)  # type: ignore[attr-defined]
    response = client.get(
        "/api/v1/reports/outcomes", params={"as_of": registry.isoformat()}, headers=analyst
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["n_cohort"] == 3
    primary = body["time_points"][0]["responders"][0]
    assert primary["definition"] == "nrs-30pct" and primary["primary"] is True
    assert primary["worst_case"]["k"] == 1 and primary["worst_case"]["n"] == 3
    assert 0 < primary["worst_case"]["lower"] < primary["worst_case"]["upper"] < 1
    assert "Traceback" not in response.text and "REG-A" not in response.text  # never a person
    compared = client.get(
        "/api/v1/reports/outcomes",
        params={
            "as_of": registry.isoformat(),
            "compare_by": "smoking",
            "first": "never",
            "second": "current",
        },
        headers=analyst,
    ).json()["comparison"]
    assert compared["stratum"] == "smoking" and compared["worst_case"][1]["n"] == 0
    refused = client.get("/api/v1/reports/outcomes", params={"compare_by": "name"}, headers=analyst)
    assert refused.status_code == 422 and refused.json()["field"] == "compare_by"


def test_the_page_charts_the_report_and_offers_its_csv(registry: date, signed_in) -> None:
    analyst = signed_in(Role.REGISTRY_ANALYST)
    page = analyst.get("/reports/outcomes", params={"as_of": registry.isoformat()})
    assert page.status_code == 200, page.text
    html = page.text
    assert "Responders, three ways" in html and "Flow of patients (STROBE)" in html
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert 'data-time-point="2 weeks"' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=|\sstyle=", html)
    table = analyst.get("/reports/outcomes.csv", params={"as_of": registry.isoformat()})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    first = next(r for r in rows if r["time_point"] == "2 weeks" and r["definition"] == "nrs-30pct")
    assert (first["n_due"], first["responders"], first["worst_case_rate"]) == ("3", "1", "0.3333")


def test_the_command_line_writes_the_same_report(registry: date, database_url: str) -> None:
    result = regenpath(
        "report", "--format", "json", "--as-of", registry.isoformat(), database=database_url
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["n_cohort"] == 3
    assert body["time_points"][0]["responders"][0]["worst_case"]["k"] == 1
    refused = regenpath("report", "--compare", "smoking", database=database_url)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: --compare: 'smoking' is not name:value")


def test_the_de_identified_export_keeps_no_identifier_and_no_date(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    """HIPAA Safe Harbor, 45 CFR 164.514(b)(2): names, record numbers and dates go; ages of
    90 and over are one group; study numbers are drawn per export."""
    treat(client, "REG-OLD", born="1933-01-15")  # 93 at the injection
    treat(client, "REG-YOUNG")
    analyst = client.as_role(Role.REGISTRY_ANALYST)  # type: ignore[attr-defined]
    response = client.get("/api/v1/exports/deidentified", headers=analyst)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["adverse_events.csv", "patients.csv", "visits.csv"]
    patients = list(csv.DictReader(io.StringIO(archive.read("patients.csv").decode())))
    assert sorted(p["age_at_injection"] for p in patients) == ["64", "90 or over"]
    assert all(re.fullmatch(r"S\d{7}", p["study_id"]) for p in patients)
    everything = "".join(archive.read(name).decode() for name in archive.namelist())
    for identifier in ("REG-OLD", "Registry", "1933", "W9999", "Dr. "):
        assert identifier not in everything
    assert not re.search(r"\d{4}-\d{2}-\d{2}", everything)  # no date of any kind

    for role in (Role.COORDINATOR, Role.PHYSICIAN):
        refused = client.get("/api/v1/exports/deidentified", headers=client.as_role(role))  # type: ignore[attr-defined]
        assert refused.status_code == 403

    result = regenpath(
        "export", "deidentified", str(tmp_path / "out"), "--format", "parquet",
        database=database_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "visits.parquet").is_file()


def test_the_pre_screen_and_the_consent_page_say_what_to_expect(
    registry: date, client: TestClient, application: Application, signed_in
) -> None:
    """Three treated spines: too few for any figure, and the pages say so in plain words."""
    with TestClient(create_app(application), base_url="https://testserver") as visitor:
        answered = visitor.post("/pre-screen", data=ANSWERS | {"region": "spine"})
    assert answered.status_code == 200
    text = answered.text
    assert "What to expect: this clinic" in text
    assert 'data-treated="3"' in text and "Fewer than 10 patients like you" in text
    assert "no anti-inflammatory painkillers (NSAIDs)" in text

    _patient, episode = new_episode(client, "REG-E", "Registry", "E", "1962-02-02")
    walk(client, episode, until="consented")
    page = signed_in(Role.PHYSICIAN).get(f"/episodes/{episode['id']}/consent").text
    assert "Fewer than 10 patients like this patient" in page


def test_bad_questions_get_a_clear_4xx_and_an_empty_selection_a_well_formed_report(
    registry: date, client: TestClient, signed_in
) -> None:
    analyst = client.as_role(Role.REGISTRY_ANALYST)  # type: ignore[attr-defined]
    url = "/api/v1/reports/outcomes"
    unknown = client.get(url, params={"hair_colour": "red"}, headers=analyst)
    assert unknown.status_code == 422 and unknown.json()["field"] == "hair_colour"
    no_such_time = client.get(
        url,
        params={"compare_by": "smoking", "first": "never", "second": "current",
                "time_point": "7 weeks"},
        headers=analyst,
    )  # fmt: skip
    assert no_such_time.status_code == 422 and no_such_time.json()["field"] == "time_point"
    empty = client.get(url, params={"clinic": "Nowhere Clinic"}, headers=analyst)
    assert empty.status_code == 200
    body = empty.json()
    assert (body["n_cohort"], body["time_points"]) == (0, [])
    assert body["durability"]["n_responders"] == 0
    page = signed_in(Role.REGISTRY_ANALYST).get("/reports/outcomes?clinic=Nowhere+Clinic")
    assert page.status_code == 200 and "No treated patient in this selection." in page.text
