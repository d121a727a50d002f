"""Issue 19's scenario in Chromium, as the physician in the procedure room: a right knee
consented for one autologous session under ultrasound. The form comes filled from the plan;
an injection typed as "fluoroscopy, posterolateral intradiscal, L4-L5 disc (left)" is a hard
stop naming each mismatch (SITE-1); after the consented session, the chart offers no second
cycle until a new plan is signed (CON-1)."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from regenpath.domain.access import Role
from regenpath.domain.procedures import TimeOutItem
from tests.integration.pathway import bedside_check, episode_now
from tests.integration.test_api_time_out import right_knee_released
from tests.support import START, TestClock


def test_SITE_1_CON_1_the_wrong_site_is_stopped_and_no_unconsented_cycle_is_offered(
    page_as, staff_api, server_url: str, server_clock: TestClock
) -> None:
    patient = staff_api.post(
        "/api/v1/patients",
        json={
            "clinic_id": staff_api.clinic["id"],
            "mrn": "RS-E2E-KNEE",
            "family_name": "Ellery",
            "given_name": "Rowan",
            "birth_date": "1961-05-02",
            "sex": "female",
        },
    ).json()
    # The pathway helpers date the harvest and the lab's steps from START; earlier tests in
    # this session moved the shared clock on by days, past a fresh product's expiry.
    later = server_clock.current
    server_clock.current = START
    try:
        episode = right_knee_released(staff_api, patient)
        bedside_check(staff_api, episode, patient)
        server_clock.advance(minutes=20)
        check_the_procedure_room(page_as, staff_api, server_url, server_clock, patient, episode)
    finally:
        server_clock.current = max(later, server_clock.current)


def check_the_procedure_room(  # type: ignore[no-untyped-def]
    page_as, staff_api, server_url: str, server_clock: TestClock, patient, episode
) -> None:
    needle_in = (server_clock.now() - timedelta(minutes=15)).astimezone(ZoneInfo("America/Chicago"))

    physician = page_as(Role.PHYSICIAN)
    physician.goto(f"{server_url}/episodes/{episode['id']}/procedure")
    # Filled from the consented plan, not from a generic default.
    expect(physician.locator("#consented-plan")).to_contain_text("1 session, under ultrasound")
    expect(physician.get_by_label("Image guidance")).to_have_value("ultrasound")
    expect(physician.locator("#target_1")).to_have_value("Right knee")
    expect(physician.locator("#laterality_1")).to_have_value("right")
    # What the outsiders typed: another region, side, approach and guidance.
    physician.get_by_label("Image guidance").select_option("fluoroscopy")
    physician.locator("#target_1").fill("L4-L5 disc")
    expect(physician.get_by_label("Approach").locator("option")).not_to_contain_text(
        ["Posterolateral intradiscal"]
    )
    physician.locator("#volume_ml_1").fill("2")
    physician.get_by_label("Needle in").fill(needle_in.strftime("%Y-%m-%dT%H:%M"))
    physician.get_by_label("Image references").fill("PACS-E2E-9")
    for item in TimeOutItem:
        physician.get_by_label(item.label).check()
    physician.get_by_role("button", name="Record injection").click()
    refusal = physician.locator("#injection .refusal")
    expect(refusal).to_contain_text("Site 1, 'L4-L5 disc', is not a planned target (Right knee)")
    expect(refusal).to_contain_text("The plan is under ultrasound")
    expect(physician.locator("#target_1")).to_have_value("L4-L5 disc")  # kept as typed
    assert episode_now(staff_api, episode)["stage"] == "released"

    # The consented procedure goes through.
    physician.locator("#target_1").fill("Right knee")
    physician.get_by_label("Image guidance").select_option("ultrasound")
    physician.get_by_role("button", name="Record injection").click()
    expect(physician.get_by_role("status")).to_contain_text("Injection recorded")
    product_id = episode_now(staff_api, episode)["cycles"][0]["product_id"]
    physician.goto(f"{server_url}/products/{product_id}")
    expect(physician.locator(".deviations")).to_contain_text(
        "The time-out stopped the injection: Site 1, 'L4-L5 disc'"
    )

    # RCV-1: follow-up before the two weeks of recovery are over only with a reason.
    physician.goto(f"{server_url}/patients/{patient['id']}")
    card = physician.locator(f"#episode-{episode['id']}")
    card.get_by_role("button", name="Start follow-up").click()
    expect(card).to_contain_text("record why follow-up starts early")
    card.get_by_label(re.compile("why start follow-up now")).fill("Seen in clinic on day 1, well")
    card.get_by_role("button", name="Start follow-up").click()
    expect(card).to_have_attribute("data-stage", "follow_up")
    expect(card.locator("[data-guard=consent_scope]")).to_contain_text(
        "The consent covers 1 session, all given"
    )
    expect(card.get_by_role("button", name="allogeneic")).to_have_count(0)
    expect(card.get_by_role("button", name="autologous")).to_have_count(0)
