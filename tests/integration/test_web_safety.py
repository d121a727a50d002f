"""The adverse-event form and the reports dashboard, as plain forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from regenpath.domain.access import Role
from tests.integration.test_api_safety import injected


def test_the_form_records_and_names_a_bad_field(
    client: TestClient, signed_in, episode, patient, clock
) -> None:
    episode = injected(client, episode, patient, clock)
    url = f"/episodes/{episode['id']}/adverse-events"
    form = {
        "term_code": "SEPTIC_ARTHRITIS",
        "onset_on": "2026-03-02",
        "grade": "4",
        "outcome": "recovering",
        "seriousness": ["life_threatening", "intervention"],
        "related_product": "possible",
    }
    bad = client.post(url, data=form | {"resolved_on": "2026-03-01"})
    assert bad.status_code == 422 and 'id="resolved_on-error"' in bad.text
    assert 'value="life_threatening" checked' in bad.text  # what was ticked stays
    saved = client.post(url, data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert "Septic arthritis" in client.get(saved.headers["location"]).text

    officer = signed_in(Role.QUALITY_OFFICER)
    board = officer.get("/quality").text
    assert 'data-rule="RPT-1"' in board and "2026-03-17" in board
    assert "<title>Quality: reports due · regenpath</title>" in board
    assert 'id="signals"' in board and 'data-kind="clinic"' in board
    report_id = re.search(r'href="/reports/([0-9a-f-]+)/3500a"', board).group(1)
    closed = officer.post(
        f"/reports/{report_id}/submission",
        data={"submitted_on": "2026-03-02", "reference": "MW-1"},  # the clinic's today
        follow_redirects=False,
    )
    assert closed.status_code == 303
    assert "No report is due." in officer.get("/quality").text
    for path in (url, "/quality", f"/reports/{report_id}/3500a"):
        html = officer.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], path
        assert not re.search(r"\son[a-z]+=|\sstyle=", html), path


def test_a_deviation_is_recorded_from_the_dashboard(client: TestClient, signed_in, clinic) -> None:
    officer = signed_in(Role.QUALITY_OFFICER)
    form = {"clinic_id": clinic["id"], "kind": "protocol", "description": "", "distributed": "true"}
    refused = officer.post("/deviations", data=form)
    assert refused.status_code == 422 and 'id="dev-description-error"' in refused.text
    saved = officer.post(
        "/deviations", data=form | {"description": "Washout not documented"}, follow_redirects=False
    )
    assert saved.status_code == 303
    board = officer.get(saved.headers["location"]).text
    assert "Deviation recorded." in board and 'data-rule="RPT-2"' in board
