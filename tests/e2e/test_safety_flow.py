"""A serious, product-related infection recorded on the page puts a Form 3500A clock on the
quality officer's dashboard with its due date."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from regenpath.domain.access import Role
from tests.integration.pathway import bedside_check, inject, new_episode, walk
from tests.support import TestClock


def test_a_serious_infection_shows_its_3500a_due_date_on_the_dashboard(
    page_as, staff_api, server_url: str, server_clock: TestClock
) -> None:
    patient, episode = new_episode(staff_api, "RS-E2E-AE", "Lindqvist", "Noor", "1964-05-02")
    released = walk(staff_api, episode, until="released")
    bedside_check(staff_api, released, patient)
    server_clock.advance(minutes=2)
    assert inject(staff_api, released).status_code == 201
    server_clock.advance(days=3)

    physician = page_as(Role.PHYSICIAN)
    physician.goto(f"{server_url}/patients/{patient['id']}")
    physician.get_by_role("link", name="Adverse events").click()
    physician.get_by_label("Event (AE-5 catalogue)").select_option("INFECTION")
    today = server_clock.now().astimezone(ZoneInfo("America/Chicago")).date()
    physician.get_by_label("Onset").fill(today.isoformat())
    physician.get_by_label("CTCAE v5 grade (AE-1)").select_option("3")
    physician.get_by_label("hospitalization").check()
    physician.get_by_label("To the product").select_option("probable")
    physician.get_by_label("Description").fill(
        "Fever, hot swollen knee; admitted for IV antibiotics"
    )
    physician.get_by_role("button", name="Record adverse event").click()
    expect(physician.get_by_role("status")).to_contain_text("Adverse event recorded.")
    expect(physician.locator("tr.ae")).to_contain_text("Infection")

    officer = page_as(Role.QUALITY_OFFICER)
    officer.get_by_role("link", name="Reports due").click()
    row = officer.locator('tr.report[data-rule="RPT-1"]', has_text="FDA 3500A")
    expect(row).to_contain_text((today + timedelta(days=15)).isoformat())
    expect(row).to_contain_text("15 days left")
    row.get_by_role("link", name="Form fields").click()
    expect(officer.locator("article.form-3500a")).to_contain_text("hospitalization")
