"""The outcome report over a small registry built through the API (issue 5), read by DuckDB
from the live database on both databases and from its Parquet snapshot: the same figures."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from regenpath.adapters.analytics import AnalyticsError, OutcomeData
from regenpath.domain.access import Role
from regenpath.services.outcomes import OutcomeReport, outcome_report
from tests.integration.pathway import bedside_check, inject, new_episode, walk
from tests.integration.test_api_followup import answer, follow_up
from tests.integration.test_cli import regenpath
from tests.support import TestClock

RMDQ_NONE = {str(n): 0 for n in range(1, 25)}


def treat(client: TestClient, mrn: str) -> dict[str, Any]:
    patient, episode = new_episode(client, mrn, "Registry", mrn, "1961-04-02")
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
    records = [treat(client, mrn) for mrn in ("REG-A", "REG-B", "REG-C")]
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
    assert written == {"flow": 4, "cohort": 3, "visits": 27}
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
