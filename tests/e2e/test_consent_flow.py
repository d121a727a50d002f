"""Signing the consent on a tablet-sized screen, then a plan change that voids it."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from regenpath.domain.access import Role
from tests.e2e.conftest import sign_in
from tests.integration.pathway import move, new_episode, plan
from tests.integration.personas import password_of, username_of


def test_the_patient_signs_on_a_tablet_and_a_changed_plan_asks_for_a_new_signature(
    browser: Browser, staff_api, server_url: str
) -> None:
    patient, episode = new_episode(staff_api, "RS-E2E-CONS", "Okafor", "Tamsin", "1971-07-30")
    for stage in ("in_evaluation", "eligible"):
        episode = move(staff_api, episode, stage)
    plan(staff_api, episode)

    tablet = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
    page = tablet.new_page()
    username = username_of(staff_api.clinic, Role.PHYSICIAN)
    sign_in(page, server_url, username, password_of(username))
    page.goto(f"{server_url}/patients/{patient['id']}")
    page.get_by_role("link", name="Plan and consent: sign").click()
    document = page.locator("article.consent-document")
    expect(document).to_contain_text("Your right to withdraw")
    expect(document).to_contain_text("infection, inflammation, allergic reactions")

    page.get_by_label("Type your full name to sign").fill("Tamsin Okafor")
    page.get_by_role("button", name="Sign the consent").click()
    expect(page.locator("input:invalid")).to_have_count(1)  # the box is not ticked yet
    page.get_by_label("I have read this document").check()
    page.get_by_role("button", name="Sign the consent").click()
    expect(page.get_by_role("status")).to_contain_text("Consent signed")
    expect(page.locator("#episode-stage")).to_have_text("Consented")
    expect(page.locator("#consent-status")).to_contain_text("Signed by Tamsin Okafor")

    page.get_by_role("link", name="Change the plan").click()
    page.get_by_label("Sessions planned").fill("2")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("status")).to_contain_text("no longer count")
    expect(page.locator("#consent-status")).to_contain_text("No consent counts now")
    expect(page.get_by_role("button", name="Sign the consent")).to_be_visible()
    tablet.close()
