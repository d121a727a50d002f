"""A coordinator's first minutes, in a real browser on a phone-sized screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_register_a_patient_open_an_episode_move_it_and_find_it_on_the_worklist(
    page: Page, server_url: str
) -> None:
    page.goto(f"{server_url}/worklist")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    before = int(page.locator('[data-stage="in_evaluation"] .count').inner_text())

    page.get_by_role("link", name="New patient").click()
    page.get_by_label("Medical record number (MRN)").fill("RS-E2E-001")
    page.get_by_label("Family name").fill("Whitlock")
    page.get_by_label("Given name").fill("Rowan")
    page.get_by_label("Birth date").fill("1972-08-19")
    page.get_by_label("Sex (administrative)").select_option("female")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("heading", name="WHITLOCK, Rowan")).to_be_visible()

    page.get_by_label("Condition (ICD-10-CM code)").fill("M51.36")
    page.get_by_label("Condition", exact=True).fill("Lumbar disc degeneration")
    page.get_by_label("Target (level or joint)").fill("L4-L5 disc")
    page.get_by_role("button", name="Open episode").click()
    card = page.locator("article.episode")
    expect(card).to_have_attribute("data-stage", "referred")

    card.get_by_role("button", name="Start evaluation").click()  # an HTMX swap of the card
    expect(page.locator("article.episode")).to_have_attribute("data-stage", "in_evaluation")
    expect(page.locator("article.episode .timeline")).to_contain_text("In evaluation")

    page.get_by_role("link", name="Worklist").click()
    expect(page.locator('[data-stage="in_evaluation"] .count')).to_have_text(str(before + 1))
    page.locator('[data-stage="in_evaluation"] a').click()
    expect(page.locator("#worklist-table")).to_contain_text("WHITLOCK, Rowan")
    expect(page).to_have_url(re.compile(r"stage=in_evaluation"))


def test_a_refused_move_shows_the_reason_on_the_card(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/patients/new")
    page.get_by_label("Medical record number (MRN)").fill("RS-E2E-002")
    page.get_by_label("Family name").fill("Yardley")
    page.get_by_label("Given name").fill("Ellis")
    page.get_by_label("Birth date").fill("1960-01-05")
    page.get_by_role("button", name="Register patient").click()
    page.get_by_label("Condition (ICD-10-CM code)").fill("M17.11")
    page.get_by_label("Condition", exact=True).fill("Primary osteoarthritis, right knee")
    page.get_by_label("Target (level or joint)").fill("Knee")
    page.get_by_role("button", name="Open episode").click()
    card = page.locator("article.episode")
    card.get_by_role("button", name="Withdraw").click()  # no reason given
    expect(page.locator("article.episode .refusal")).to_contain_text("Say why")
    expect(page.locator("article.episode")).to_have_attribute("data-stage", "referred")


def test_a_page_asks_for_sign_in_and_returns_to_it(anonymous_page: Page, server_url: str) -> None:
    anonymous_page.goto(f"{server_url}/patients")
    expect(anonymous_page.get_by_role("heading", name="Sign in")).to_be_visible()
    anonymous_page.get_by_label("User name").fill("coordinator.e2e")
    anonymous_page.get_by_label("Password").fill("e2e-coordinator-password")
    anonymous_page.get_by_role("button", name="Sign in").click()
    expect(anonymous_page).to_have_url(f"{server_url}/patients")
    cookie = next(c for c in anonymous_page.context.cookies() if c["name"] == "regenpath_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
