"""The physician's evaluation in a real browser: findings appear as answers change, and SOFT
findings are overridden under an electronic signature."""

from __future__ import annotations

from playwright.sync_api import expect

from regenpath.domain.access import Role
from tests.integration.pathway import assess, move, new_episode


def test_live_findings_then_an_override_with_signature_makes_the_episode_eligible(
    page_as, staff_api, server_url: str
) -> None:
    patient, episode = new_episode(
        staff_api, "RS-E2E-EVAL", "Penrose", "Idris", "1969-02-11", "male"
    )
    episode = move(staff_api, episode, "in_evaluation")
    assess(staff_api, episode, sex="male", steroid_injections=["2026-02-10"])  # EX-4: SOFT

    physician = page_as(Role.PHYSICIAN)
    physician.goto(f"{server_url}/patients/{patient['id']}")
    physician.get_by_role("link", name="Evaluation and eligibility decision").click()
    verdict = physician.locator("#verdict")
    expect(verdict.locator(".verdict")).to_have_attribute("data-verdict", "ineligible")
    expect(verdict).to_contain_text("EX-4")

    physician.get_by_label("Anticoagulants").select_option("true")
    live = physician.locator("#live-findings")
    expect(live).to_contain_text("EX-5")  # found as the answer changed, nothing saved
    physician.get_by_label("Active infection (systemic or at a site)").select_option("true")
    expect(live).to_contain_text("a HARD exclusion: no override")
    physician.get_by_label("Active infection (systemic or at a site)").select_option("false")
    physician.get_by_label("Anticoagulants").select_option("false")
    expect(live).not_to_contain_text("EX-5")

    physician.locator("summary", has_text="Override the SOFT findings").click()
    physician.get_by_label("Why these findings do not stand in the way").fill(
        "Single epidural injection, symptoms unchanged; risk discussed"
    )
    physician.get_by_label("Your password").fill(staff_api.password_for(Role.PHYSICIAN))
    physician.get_by_role("button", name="Sign and override: eligible").click()
    expect(physician.get_by_role("status")).to_contain_text("Decision recorded.")
    expect(physician.locator("#episode-stage")).to_have_text("Eligible")
    physician.locator("summary", has_text="Evaluations and decisions").click()
    expect(physician.locator("#verdict .timeline")).to_contain_text("overridden")
