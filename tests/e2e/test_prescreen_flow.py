"""The public pre-screen on a phone, signed in as nobody."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_a_visitor_answers_and_reads_what_it_means_in_plain_words(
    anonymous_page: Page, server_url: str
) -> None:
    page = anonymous_page
    page.goto(f"{server_url}/login")
    page.get_by_role("link", name="Could stem-cell therapy be an option for me?").click()
    expect(
        page.get_by_role("heading", name="Could stem-cell therapy be an option for me?")
    ).to_be_visible()
    page.get_by_label("Where is the pain?").select_option("spine")
    page.get_by_label("How bad is it on an average day").fill("7")
    page.get_by_label("For how many months have you had this pain?").fill("14")
    page.get_by_label("Your age").fill("49")
    page.get_by_label("Physiotherapy: for how many months?").fill("8")
    page.get_by_label("Do you have an infection at the moment?").select_option("no")
    page.get_by_label("Have you had cancer?").select_option("within_5_years")
    page.get_by_role("button", name="See what this means for me").click()
    result = page.get_by_role("status")
    expect(result).to_contain_text("A reason you would likely not be treated")
    expect(result).to_contain_text("cancer treatment in the last 5 years")
    expect(page.locator("body")).not_to_contain_text(re.compile("eligible", re.IGNORECASE))
    expect(page.get_by_label("Your age")).to_have_value("49")  # the answers stay to change

    page.get_by_label("Have you had cancer?").select_option("never")
    page.get_by_role("button", name="See what this means for me").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Worth discussing with a qualified physician"
    )
    expect(page.get_by_role("status")).to_contain_text("an MRI or X-ray read by a specialist")
