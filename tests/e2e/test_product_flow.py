"""From the lab's release to the injection, in real browsers: the lab technician, the nurse
at the bedside and the physician, each signed in as themselves."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from regenpath.domain.access import Role
from regenpath.domain.isbt128 import parse_din
from regenpath.domain.procedures import TimeOutItem
from tests.integration.pathway import new_episode, walk
from tests.support import TestClock


def test_release_then_a_wrong_wristband_stops_then_the_right_one_clears_the_injection(
    page_as, staff_api, server_url: str, server_clock: TestClock
) -> None:
    patient, episode = new_episode(
        staff_api, "RS-E2E-BED", "Ashdown", "Marlowe", "1966-09-14", "male"
    )
    processed = walk(staff_api, episode, until="processed")
    product_id = processed["cycles"][-1]["product_id"]
    din = parse_din(staff_api.get(f"/api/v1/products/{product_id}").json()["product"]["din"])

    lab = page_as(Role.LAB_TECHNICIAN)
    lab.get_by_role("link", name="Lab", exact=True).click()
    lab.locator('[data-column="awaiting QC"] a', has_text=din.eye_readable).click()
    lab.get_by_label("Your password").fill(staff_api.password_for(Role.LAB_TECHNICIAN))
    lab.get_by_role("button", name="Sign and release").click()
    expect(lab.get_by_role("status")).to_contain_text("Released under your electronic signature")
    expect(lab.locator("section.product")).to_have_attribute("data-status", "released")

    server_clock.advance(minutes=5)
    nurse = page_as(Role.NURSE)
    nurse.goto(f"{server_url}/patients/{patient['id']}")
    nurse.get_by_role("link", name="Procedure room").click()
    nurse.get_by_label("Product label DIN").fill(din.eye_readable)
    nurse.get_by_label("Wristband MRN").fill("RS-E2E-BDE")  # two letters swapped
    nurse.get_by_label("Wristband birth date").fill("1966-09-14")
    nurse.get_by_role("button", name="Check patient and product").click()
    stop = nurse.locator("#bedside-stop")
    expect(stop).to_contain_text("STOP — do not inject")
    expect(stop).to_contain_text("the wristband MRN is not this patient's")
    expect(nurse.get_by_role("heading", name="2. Injection record")).to_have_count(0)
    nurse.get_by_role("link", name="Product record").click()
    expect(nurse.locator(".deviations")).to_contain_text("Bedside mismatch")
    nurse.get_by_role("link", name="Procedure room").click()

    server_clock.advance(minutes=1)
    nurse.get_by_label("Product label DIN").fill(din.eye_readable)
    nurse.get_by_label("Wristband MRN").fill("RS-E2E-BED")
    nurse.get_by_label("Wristband birth date").fill("1966-09-14")
    nurse.get_by_role("button", name="Check patient and product").click()
    expect(nurse.get_by_role("status")).to_contain_text("Bedside check passed")

    server_clock.advance(minutes=20)
    needle_in = (server_clock.now() - timedelta(minutes=15)).astimezone(ZoneInfo("America/Chicago"))
    physician = page_as(Role.PHYSICIAN)
    physician.goto(f"{server_url}/episodes/{episode['id']}/procedure")
    physician.get_by_label("Approach").select_option("posterolateral_intradiscal")
    physician.get_by_label("Volume (mL)").first.fill("2")
    physician.get_by_label("Cell dose").first.fill("120")
    physician.get_by_label("Needle in").fill(needle_in.strftime("%Y-%m-%dT%H:%M"))
    physician.get_by_label("Image references").fill("PACS-E2E-1")
    for item in TimeOutItem:  # the time-out, aloud, before the needle (SITE-1)
        physician.get_by_label(item.label).check()
    physician.get_by_role("button", name="Record injection").click()
    expect(physician.get_by_role("status")).to_contain_text("Injection recorded")
    expect(physician.locator("#episode-stage")).to_have_text("Recovery")

    physician.get_by_role("link", name="Back to the chart").click()
    expect(physician.locator("article.episode")).to_have_attribute("data-stage", "recovery")
