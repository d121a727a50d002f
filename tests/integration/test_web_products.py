"""The lab's, the procedure room's and the quality officer's pages, driven as plain forms."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from regenpath.domain.access import Role
from regenpath.domain.isbt128 import parse_din
from regenpath.domain.procedures import TimeOutItem
from tests.integration.pathway import harvest, process, walk
from tests.integration.test_api_products import donor_with_products
from tests.support import START

CLINIC_ZONE = ZoneInfo("America/Chicago")  # the clinic fixture's zone


def local(minutes: float = 0) -> str:
    """A time as the clinic's ``datetime-local`` inputs send it."""
    return (START + timedelta(minutes=minutes)).astimezone(CLINIC_ZONE).strftime("%Y-%m-%dT%H:%M")


def product_of(client: TestClient, episode: dict[str, Any]) -> dict[str, Any]:
    now = client.get(f"/api/v1/episodes/{episode['id']}").json()
    found: dict[str, Any] = client.get(
        f"/api/v1/products/{now['cycles'][-1]['product_id']}"
    ).json()["product"]
    return found


def submit(browser: TestClient, path: str, data: dict[str, Any] | None = None) -> Any:
    """Post a form that must be accepted (303, POST/redirect/GET) and open where it leads."""
    response = browser.post(path, data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return browser.get(response.headers["location"])


def test_the_lab_takes_a_harvest_through_processing_qc_and_a_signed_release(
    client: TestClient, signed_in, episode
) -> None:
    planned = walk(client, episode, until="planned")
    product = harvest(client, planned)
    lab = signed_in(Role.LAB_TECHNICIAN)
    board = lab.get("/lab").text
    received = board.split('data-column="received"')[1].split('data-column="processing"')[0]
    assert parse_din(product["din"]).eye_readable in received

    base = f"/products/{product['id']}"
    step = {"kind": "centrifugation", "started_at": local(0), "ended_at": local(1)}
    page = submit(lab, f"{base}/processing-steps", data=step | {"device": "CF-2"})
    assert "Processing step recorded." in page.text
    assert "centrifugation" in page.text and "CF-2" in page.text

    for test, value in (("viability", "91"), ("tnc_per_ml", "62"), ("volume", "6")):
        qc = {"test": test, "value": value, "measured_at": local(2)}
        assert "QC result recorded." in submit(lab, f"{base}/qc-results", data=qc).text
    page = submit(lab, f"{base}/finish-processing")
    assert 'data-status="quarantine"' in page.text
    assert "Release or reject (electronic signature)" in page.text

    wrong = lab.post(f"{base}/release", data={"decision": "release", "password": "not-mine"})
    assert wrong.status_code == 422
    assert 'id="release-password-error"' in wrong.text
    assert "The password is not right" in wrong.text
    signed = {"decision": "release", "password": client.password_for(Role.LAB_TECHNICIAN)}  # type: ignore[attr-defined]
    page = submit(lab, f"{base}/release", data=signed)
    assert "Released under your electronic signature." in page.text
    assert 'data-status="released"' in page.text
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "released"


def test_bad_lab_input_names_the_field_and_stores_nothing(
    client: TestClient, signed_in, episode
) -> None:
    product = harvest(client, walk(client, episode, until="planned"))
    lab = signed_in(Role.LAB_TECHNICIAN)
    base = f"/products/{product['id']}"

    out_of_range = {"test": "viability", "value": "140", "measured_at": local(2)}
    response = lab.post(f"{base}/qc-results", data=out_of_range)
    assert response.status_code == 422
    assert 'id="qc-value-error"' in response.text
    assert 'value="140"' in response.text  # what was typed stays

    before_harvest = {
        "kind": "moved",
        "to_party": "Lab",
        "location": "Bench 2",
        "occurred_at": local(-24 * 60),
    }
    response = lab.post(f"{base}/custody-events", data=before_harvest)
    assert response.status_code == 422
    assert 'id="custody-occurred_at-error"' in response.text

    record = client.get(f"/api/v1/products/{product['id']}").json()
    assert record["qc"][0]["status"] == "missing"
    assert [c["title"] for c in record["custody"]] == ["Collected"]


def test_the_label_prints_the_din_its_check_character_a_code_128_and_the_warnings(
    client: TestClient, episode
) -> None:
    product = harvest(client, walk(client, episode, until="planned"))
    din = parse_din(product["din"])
    page = client.get(f"/products/{product['id']}/label").text
    assert f'<span class="check" title="ISO/IEC 7064 MOD 37-2 check character">{din.check}' in page
    assert "FOR AUTOLOGOUS USE ONLY" in page  # DON-1
    assert "QUARANTINE — DO NOT IMPLANT" in page  # DON-5: not released yet
    assert "HALE, Avery" in page and "RS-000001" in page
    image = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert image, "the barcode is an image"
    svg = base64.b64decode(image.group(1)).decode()
    assert "python-barcode" in svg and svg.count("<rect") > 20
    assert f'alt="Barcode ={din.code}00"' in page  # ISBT 128 DIN data structure, flags 00


def test_BED_1_in_the_procedure_room_a_wrong_wristband_stops_then_the_right_one_clears(
    client: TestClient, signed_in, patient, episode, clock
) -> None:
    released = walk(client, episode, until="released")
    product = product_of(client, released)
    nurse = signed_in(Role.NURSE)
    room = f"/episodes/{episode['id']}/procedure"
    assert "1. Bedside check (BED-1)" in nurse.get(room).text
    check = {
        "scanned_din": parse_din(product["din"]).eye_readable,
        "wristband_mrn": "RS-999999",
        "wristband_birth_date": patient["birth_date"],
        "method": "barcode_scan",
    }
    stop = nurse.post(f"/episodes/{episode['id']}/bedside-verifications", data=check)
    assert stop.status_code == 409
    assert "STOP — do not inject" in stop.text
    assert "the wristband MRN is not this patient&#39;s" in stop.text
    assert "2. Injection record" not in stop.text
    deviations = client.get(f"/products/{product['id']}").text
    assert "bedside mismatch" in deviations.lower()

    bad_din = nurse.post(
        f"/episodes/{episode['id']}/bedside-verifications",
        data=check | {"scanned_din": product["din"][:-1] + "Z", "wristband_mrn": patient["mrn"]},
    )
    assert bad_din.status_code == 422
    assert 'id="scanned_din-error"' in bad_din.text

    clock.advance(minutes=1)
    cleared = submit(
        nurse,
        f"/episodes/{episode['id']}/bedside-verifications",
        check | {"wristband_mrn": patient["mrn"]},
    )
    assert "Bedside check passed" in cleared.text

    physician_view = client.get(room).text
    assert "2. Injection record" in physician_view
    # The form is filled from the consented plan, not from a generic default.
    assert 'id="target_1" name="target" value="L4-L5 disc"' in physician_view
    assert '<option value="fluoroscopy" selected>' in physician_view
    assert "Consented plan (version 1)" in physician_view
    injection = {
        "version": str(client.get(f"/api/v1/episodes/{episode['id']}").json()["version"]),
        "guidance": "fluoroscopy",
        "approach": "posterolateral_intradiscal",
        "target": ["L4-L5 disc", "", ""],
        "laterality": ["midline", "midline", "midline"],
        "volume_ml": ["2", "", ""],
        "cell_dose_million": ["120", "", ""],
        "started_at": local(1),
        "ended_at": local(4),
        "image_references": "PACS-0001, PACS-0002",
    }
    # SITE-1: without the time-out the form comes back, keeping what was typed.
    untimed = client.post(f"/episodes/{episode['id']}/injection", data=injection)
    assert untimed.status_code == 409
    assert "Hold the time-out before the injection" in untimed.text
    assert 'name="volume_ml" inputmode="decimal" value="2"' in untimed.text
    # A right knee typed for this L4-L5 plan: a hard stop naming each mismatch.
    confirmed = {"time_out": [item.value for item in TimeOutItem]}
    wrong = injection | confirmed | {"target": ["Right knee", "", ""], "laterality": ["right"]}
    stopped = client.post(f"/episodes/{episode['id']}/injection", data=wrong)
    assert stopped.status_code == 409
    assert "is not a planned target (L4-L5 disc)" in stopped.text
    assert 'value="patient" checked' in stopped.text  # the ticks stay too
    kept = client.get(f"/products/{product['id']}").text.lower()
    assert "the time-out stopped the injection: site 1" in kept  # the near miss
    page = submit(client, f"/episodes/{episode['id']}/injection", data=injection | confirmed)
    assert "Injection recorded" in page.text
    assert 'data-stage="recovery"' in page.text
    assert "L4-L5 disc (midline): 2 mL, 120 \u00d7 10\u2076 cells" in page.text


def test_an_injection_form_without_a_site_names_the_field(
    client: TestClient, patient, episode
) -> None:
    released = walk(client, episode, until="released")
    response = client.post(
        f"/episodes/{episode['id']}/injection",
        data={
            "version": str(released["version"]),
            "guidance": "ultrasound",
            "approach": "knee_superolateral",
            "target": [""],
            "laterality": ["right"],
            "volume_ml": [""],
            "cell_dose_million": [""],
            "started_at": local(1),
            "ended_at": local(4),
        },
    )
    assert response.status_code == 422
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "released"


def test_the_harvest_form_shows_consent_and_makes_the_labelled_product(
    client: TestClient, episode
) -> None:
    planned = walk(client, episode, until="planned")
    form = client.get(f"/episodes/{episode['id']}/harvest").text
    assert "Consent on record" in form
    chart = client.get(f"/patients/{planned['patient_id']}").text
    assert f'href="/episodes/{episode["id"]}/harvest"' in chart
    fields = {
        "version": str(planned["version"]),
        "product_type": "bmac",
        "source": "bone_marrow",
        "site": "posterior_iliac_crest",
        "side": "bilateral",
        "anaesthesia": "local_with_sedation",
        "volume_ml": "",
        "started_at": local(-40),
        "ended_at": local(0),
        "nsaids_stopped": "yes",
    }
    form_page = client.get(f"/episodes/{episode['id']}/harvest").text
    assert 'name="started_at" type="datetime-local" value=""' in form_page  # never "now"
    missing = client.post(f"/episodes/{episode['id']}/harvest", data=fields)
    assert missing.status_code == 422
    assert 'id="volume_ml-error"' in missing.text
    url = f"/episodes/{episode['id']}/harvest"
    for times, field in (
        ({"started_at": "", "ended_at": ""}, "started_at"),  # left empty
        ({"started_at": local(0), "ended_at": local(0)}, "ended_at"),  # an instant
        ({"started_at": local(0), "ended_at": local(-40)}, "ended_at"),  # ends before it starts
    ):
        refused = client.post(url, data=fields | {"volume_ml": "90"} | times)
        assert refused.status_code == 422, (times, refused.status_code)
        assert f'id="{field}-error"' in refused.text, times
    page = submit(client, url, data=fields | {"volume_ml": "90"})
    assert "Harvest recorded" in page.text
    assert "(40 min)" in page.text  # the duration shown
    assert "bone marrow, Posterior iliac crest (bilateral)" in page.text
    assert client.get(f"/api/v1/episodes/{episode['id']}").json()["stage"] == "harvested"


def test_donor_pages_register_test_refuse_an_unsupported_determination_and_receive(
    client: TestClient, signed_in, clinic
) -> None:
    lab = signed_in(Role.LAB_TECHNICIAN)
    donor = {
        "clinic_id": clinic["id"],
        "code": "123-45-6789",
        "tissue": "umbilical_cord",
        "living": "no",
        "recovered_at": local(-3 * 24 * 60),
        "screening": "no_risk_factors",
    }
    refused = lab.post("/donors", data=donor)
    assert refused.status_code == 422
    assert 'id="donor-code-error"' in refused.text
    page = submit(lab, "/donors", data=donor | {"code": "DNR-WEB-1"})
    assert "Donor registered." in page.text
    donor_url = str(page.url.path)
    test = {
        "test": "hiv1_antibody",
        "result": "nonreactive",
        "specimen_collected_at": local(-3 * 24 * 60),
        "specimen_source": "birth_mother",
        "assay": "Licensed assay A",
    }
    assert "Test result recorded." in submit(lab, f"{donor_url}/tests", data=test).text
    password = client.password_for(Role.LAB_TECHNICIAN)  # type: ignore[attr-defined]
    eligible = lab.post(
        f"{donor_url}/determination", data={"decision": "eligible", "password": password}
    )
    assert eligible.status_code == 409
    assert "no valid result on record (DON-2)" in eligible.text
    page = submit(lab, f"{donor_url}/products", {"product_type": "umbilical_cord_msc"})
    assert "Product received into quarantine" in page.text
    assert "quarantine" in page.text


def test_lookback_and_recall_pages_reach_every_recipient_as_a_task(
    client: TestClient, signed_in, clinic
) -> None:
    donor_id, products = donor_with_products(client, clinic, 2)
    officer = signed_in(Role.QUALITY_OFFICER)
    trace = officer.get(f"/donors/{donor_id}/trace").text
    assert trace.count('class="din"') == 2 and "DNR-LOOK-1" in trace
    empty = officer.post(f"/donors/{donor_id}/recall", data={"reason": " "})
    assert empty.status_code == 422
    page = submit(officer, f"/products/{products[0]}/recall", data={"reason": "Notice"})
    assert "Recall started" in page.text
    assert page.text.count("status-recalled") == 2
    lab = signed_in(Role.LAB_TECHNICIAN)
    assert lab.post(f"/donors/{donor_id}/recall", data={"reason": "x"}).status_code == 403
    assert "No open task." in officer.get("/tasks").text  # nobody had received them


def test_the_new_pages_carry_no_inline_script(client: TestClient, signed_in, episode) -> None:
    product = harvest(client, walk(client, episode, until="planned"))
    lab = signed_in(Role.LAB_TECHNICIAN)
    for browser, path in (
        (lab, "/lab"),
        (lab, f"/products/{product['id']}"),
        (lab, f"/products/{product['id']}/label"),
        (lab, "/donors"),
        (lab, f"/products/{product['id']}/trace"),
        (client, f"/episodes/{episode['id']}/procedure"),
        (client, "/tasks"),
    ):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.text) == [], path
        assert not re.search(r"\son[a-z]+=|\sstyle=", response.text), path


def test_an_expired_product_in_quarantine_can_only_be_rejected(
    client: TestClient, signed_in, episode, clock
) -> None:
    product = harvest(client, walk(client, episode, until="planned"))
    process(client, product["id"])
    clock.advance(hours=49)  # BMAC: 48 hours' hold (EXP-1)
    lab = signed_in(Role.LAB_TECHNICIAN)
    page = lab.get(f"/products/{product['id']}").text
    assert "Expired: reject and discard" in page
    assert "Sign and release" not in page
    password = client.password_for(Role.LAB_TECHNICIAN)  # type: ignore[attr-defined]
    rejected = {"decision": "reject", "password": password, "reason": "Expired before release"}
    page = submit(lab, f"/products/{product['id']}/release", rejected)
    assert "Rejected under your electronic signature" in page.text
    assert 'data-status="discarded"' in page.text
