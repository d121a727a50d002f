"""The outcome report in Chromium: its charts render; and "what to expect" on the public
pre-screen says there are too few patients rather than show a figure resting on them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from regenpath.domain.access import Role


def test_the_report_page_renders_its_charts(page_as, staff_api, server_url: str) -> None:
    analyst = page_as(Role.REGISTRY_ANALYST)
    analyst.goto(f"{server_url}/reports")
    analyst.get_by_role("link", name="Outcomes: responders, durability, completeness").click()
    expect(analyst.get_by_role("heading", name="Responders, three ways")).to_be_visible()
    charts = analyst.locator("figure.report-chart img")
    expect(charts).to_have_count(4)
    for index in range(4):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        width = chart.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width > 0, f"chart {index} did not render"


def test_what_to_expect_suppresses_a_small_group(anonymous_page: Page, server_url: str) -> None:
    visitor = anonymous_page
    visitor.goto(f"{server_url}/pre-screen")
    visitor.get_by_label("Where is the pain?").select_option("knee")
    visitor.get_by_label("How bad is it on an average day").fill("6")
    visitor.get_by_label("For how many months have you had this pain?").fill("18")
    visitor.get_by_label("Your age").fill("58")
    visitor.get_by_role("button", name="See what this means for me").click()
    section = visitor.locator("section.expect")
    expect(section).to_contain_text("Fewer than 10 patients like you")
    expect(section).not_to_contain_text("in every 100 patients")
