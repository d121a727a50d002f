"""The lab's pages: its worklist, the product page with its forms, the printable label,
lookback and recall, the donors and the open tasks.

Every form posts to its own route and, once the service accepted it, redirects back to the
page it came from (POST/redirect/GET) with a notice; a refusal re-renders the page with the
reason under the form that caused it and what was typed still in place.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from regenpath.domain.custody import CustodyKind
from regenpath.domain.donors import (
    DonorTest,
    DonorTissue,
    Screening,
    SpecimenSource,
    TestResult,
    specimen_window,
)
from regenpath.domain.products import CellSource, DonorEligibility, ProductStatus, ProductType
from regenpath.domain.quality import QC_MEASURES, ProcessingKind, QcOutcome
from regenpath.domain.signatures import SignatureMeaning
from regenpath.entrypoints.api.product_schemas import (
    CustodyIn,
    DeterminationIn,
    DonorIn,
    DonorProductIn,
    DonorTestIn,
    ProcessingStepIn,
    QcResultIn,
    RecallIn,
    ReleaseIn,
)
from regenpath.entrypoints.deps import AppDep, ClockDep, IdsDep, signed_in_staff
from regenpath.entrypoints.web.access import (
    CreateDonors,
    CreateProducts,
    ReadDonors,
    ReadLookback,
    ReadProducts,
    ReadTasks,
    RecordCustody,
    StartRecalls,
    UpdateDonors,
    UpdateProducts,
)
from regenpath.entrypoints.web.forms import (
    Body,
    FormReader,
    Posted,
    local_input,
    status_of,
    submit_form,
    typed,
)
from regenpath.entrypoints.web.labels import din_barcode_data, din_barcode_image
from regenpath.entrypoints.web.rendering import clinic_zones, templates
from regenpath.services import clinics, donors, lab, lookback, products
from regenpath.services.ports import UnitOfWork
from regenpath.services.products import LAB_COLUMNS
from regenpath.services.signatures import Signer

router = APIRouter(include_in_schema=False)


class NoFields(BaseModel):
    """A form that is only a button (and its CSRF token)."""


# What the page says after a form was accepted; the query string carries only the key.
NOTICES = {
    "step": "Processing step recorded.",
    "finished": "Processing finished: the product is in quarantine until its QC release.",
    "qc": "QC result recorded.",
    "qc-recall": "Positive result after release: a recall task was opened for the recipient.",
    "released": "Released under your electronic signature.",
    "rejected": "Rejected under your electronic signature; the product is discarded.",
    "custody": "Custody event recorded.",
    "recalled": "Recall started: the products are marked and each recipient has a task.",
    "donor": "Donor registered.",
    "test": "Test result recorded.",
    "determined": "Determination recorded under your electronic signature.",
    "received": "Product received into quarantine (DON-5) with a new DIN.",
    "harvested": "Harvest recorded: the product has its DIN. Print its label before it leaves.",
}


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


@router.get("/lab", response_class=HTMLResponse)
def lab_worklist(request: Request, uow: ReadProducts, clock: ClockDep) -> Response:
    board = products.lab_worklist(uow, clock)
    return templates.TemplateResponse(
        request,
        "lab.html",
        {"board": board, "columns": LAB_COLUMNS, "zones": clinic_zones(uow)},
    )


def _product_zone(uow: UnitOfWork, app: AppDep, product_id: UUID) -> str:
    product = products.get_product(uow, app.clock, product_id)
    return clinics.get_clinic(uow, product.clinic_id).time_zone


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(
    request: Request, product_id: UUID, uow: ReadProducts, app: AppDep, done: str | None = None
) -> Response:
    return _product_page(request, uow, app, product_id, notice=_notice(done))


def _product_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    product_id: UUID,
    *,
    failed: str | None = None,
    form: FormReader | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    record = products.product_record(uow, app.clock, app.lab, product_id)
    zone = clinics.get_clinic(uow, record.product.clinic_id).time_zone
    return templates.TemplateResponse(
        request,
        "product.html",
        {
            "record": record,
            "p": record.product,
            "zone": zone,
            "now_input": local_input(app.clock.now(), zone),
            "specification": app.lab.specifications[record.product.product_type],
            "processing_kinds": list(ProcessingKind),
            "qc_test_choices": [
                (t.value, f"{m.label} ({m.unit})" if m.unit else m.label)
                for t, m in QC_MEASURES.items()
            ],
            "qc_outcomes": list(QcOutcome),
            "custody_kinds": [k for k in CustodyKind if k is not CustodyKind.ADMINISTERED],
            "meanings": list(SignatureMeaning),
            "failed": failed,
            "errors": form.errors if form is not None else {},
            "values": values or {},
            "notice": notice,
        },
        status_code=status_of(form),
    )


def _product_form(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    product_id: UUID,
    which: str,
    posted: FormData,
    schema: type[Body],
    act: Callable[[Body], str],
    *,
    local: tuple[str, ...] = (),
) -> Response:
    """One of the product page's forms, read by the API's ``schema`` and done by ``act``."""
    return submit_form(
        FormReader(_product_zone(uow, app, product_id)),
        schema,
        posted,
        act,
        lambda done: f"/products/{product_id}?done={done}#{which}",
        lambda refused: _product_page(
            request, uow, app, product_id, failed=which, form=refused, values=typed(posted)
        ),
        local=local,
    )


@router.post("/products/{product_id}/processing-steps", response_class=HTMLResponse)
def add_processing_step(
    request: Request, product_id: UUID, uow: UpdateProducts, app: AppDep, posted: Posted
) -> Response:
    def act(body: ProcessingStepIn) -> str:
        staff = signed_in_staff(request)
        command = lab.AddProcessingStep(product_id=product_id, **body.model_dump())
        lab.add_processing_step(uow, app.clock, app.new_id, staff, command)
        return "step"

    return _product_form(
        request,
        uow,
        app,
        product_id,
        "processing",
        posted,
        ProcessingStepIn,
        act,
        local=("started_at", "ended_at"),
    )


@router.post("/products/{product_id}/finish-processing", response_class=HTMLResponse)
def finish_processing(
    request: Request, product_id: UUID, uow: UpdateProducts, app: AppDep, posted: Posted
) -> Response:
    def act(_: NoFields) -> str:
        lab.finish_processing(uow, app.clock, product_id)
        return "finished"

    return _product_form(request, uow, app, product_id, "processing", posted, NoFields, act)


@router.post("/products/{product_id}/qc-results", response_class=HTMLResponse)
def record_qc_result(
    request: Request, product_id: UUID, uow: UpdateProducts, app: AppDep, posted: Posted
) -> Response:
    def act(body: QcResultIn) -> str:
        staff = signed_in_staff(request)
        command = lab.RecordQcResult(product_id=product_id, **body.model_dump())
        recorded = lab.record_qc_result(uow, app.clock, app.new_id, staff, command)
        return "qc-recall" if recorded.recall_task is not None else "qc"

    return _product_form(
        request, uow, app, product_id, "qc", posted, QcResultIn, act, local=("measured_at",)
    )


@router.post("/products/{product_id}/release", response_class=HTMLResponse)
def decide_release(
    request: Request, product_id: UUID, uow: UpdateProducts, app: AppDep, posted: Posted
) -> Response:
    def act(body: ReleaseIn) -> str:
        releasing = body.decision == "release"
        signer = Signer(
            signed_in_staff(request),
            body.password,
            app.hasher,
            app.lockout,
            body.meaning,
            body.reason or ("Released after QC review" if releasing else None),
        )
        lab.decide_release(
            uow, app.clock, app.new_id, app.lab, signer, product_id, releasing, body.reason
        )
        return "released" if releasing else "rejected"

    return _product_form(request, uow, app, product_id, "release", posted, ReleaseIn, act)


@router.post("/products/{product_id}/custody-events", response_class=HTMLResponse)
def record_custody(
    request: Request, product_id: UUID, uow: RecordCustody, app: AppDep, posted: Posted
) -> Response:
    def act(body: CustodyIn) -> str:
        staff = signed_in_staff(request)
        command = lab.RecordCustody(product_id=product_id, **body.model_dump())
        lab.record_custody(uow, app.clock, app.new_id, staff, command)
        return "custody"

    return _product_form(
        request, uow, app, product_id, "custody", posted, CustodyIn, act, local=("occurred_at",)
    )


@router.get("/products/{product_id}/label", response_class=HTMLResponse)
def product_label(request: Request, product_id: UUID, uow: ReadProducts, app: AppDep) -> Response:
    """The printable label (LBL-1): DIN with its check character, type, expiry, warnings."""
    record = products.product_record(uow, app.clock, app.lab, product_id)
    clinic = clinics.get_clinic(uow, record.product.clinic_id)
    return templates.TemplateResponse(
        request,
        "label.html",
        {
            "record": record,
            "p": record.product,
            "clinic": clinic,
            "zone": clinic.time_zone,
            "barcode": din_barcode_image(record.din),
            "barcode_data": din_barcode_data(record.din),
            "quarantined": record.status in (ProductStatus.IN_PROCESSING, ProductStatus.QUARANTINE),
        },
    )


# --- Lookback and recall (TRK-1) -------------------------------------------------------------


def _trace_page(
    request: Request,
    uow: UnitOfWork,
    trace: lookback.Trace,
    recall_action: str | None,
    notice: str | None = None,
    form: FormReader | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "lookback.html",
        {
            "trace": trace,
            "zones": clinic_zones(uow),
            "recall_action": recall_action,
            "errors": form.errors if form is not None else {},
            "notice": notice,
        },
        status_code=status_of(form),
    )


@router.get("/products/{product_id}/trace", response_class=HTMLResponse)
def trace_product(
    request: Request, product_id: UUID, uow: ReadLookback, clock: ClockDep, done: str | None = None
) -> Response:
    trace = lookback.trace_product(uow, clock, product_id)
    recall = f"/products/{product_id}/recall"
    return _trace_page(request, uow, trace, recall, _notice(done))


@router.get("/donors/{donor_id}/trace", response_class=HTMLResponse)
def trace_donor(
    request: Request, donor_id: UUID, uow: ReadLookback, clock: ClockDep, done: str | None = None
) -> Response:
    trace = lookback.trace_donor(uow, clock, donor_id)
    return _trace_page(request, uow, trace, f"/donors/{donor_id}/recall", _notice(done))


@router.get("/patients/{patient_id}/trace", response_class=HTMLResponse)
def trace_patient(
    request: Request, patient_id: UUID, uow: ReadLookback, clock: ClockDep
) -> Response:
    return _trace_page(request, uow, lookback.trace_patient(uow, clock, patient_id), None)


def _recall(
    request: Request,
    uow: UnitOfWork,
    clock: ClockDep,
    ids: IdsDep,
    posted: FormData,
    trace_url: str,
    **origin: UUID,
) -> Response:
    def act(body: RecallIn) -> str:
        lookback.recall(uow, clock, ids, reason=body.reason, **origin)
        return "recalled"

    def again(refused: FormReader) -> Response:
        trace = (
            lookback.trace_product(uow, clock, origin["product_id"])
            if "product_id" in origin
            else lookback.trace_donor(uow, clock, origin["donor_id"])
        )
        return _trace_page(request, uow, trace, request.url.path, form=refused)

    return submit_form(
        FormReader(), RecallIn, posted, act, lambda done: f"{trace_url}?done={done}", again
    )


@router.post("/products/{product_id}/recall", response_class=HTMLResponse)
def recall_product(
    request: Request,
    product_id: UUID,
    uow: StartRecalls,
    clock: ClockDep,
    ids: IdsDep,
    posted: Posted,
) -> Response:
    trace_url = f"/products/{product_id}/trace"
    return _recall(request, uow, clock, ids, posted, trace_url, product_id=product_id)


@router.post("/donors/{donor_id}/recall", response_class=HTMLResponse)
def recall_donor(
    request: Request,
    donor_id: UUID,
    uow: StartRecalls,
    clock: ClockDep,
    ids: IdsDep,
    posted: Posted,
) -> Response:
    return _recall(request, uow, clock, ids, posted, f"/donors/{donor_id}/trace", donor_id=donor_id)


@router.get("/tasks", response_class=HTMLResponse)
def open_tasks(request: Request, uow: ReadTasks) -> Response:
    """Open tasks of the user's clinics: each recall reaches one recipient as one task."""
    return templates.TemplateResponse(
        request, "tasks.html", {"tasks": lookback.open_tasks(uow), "zones": clinic_zones(uow)}
    )


# --- Donors (DON-2 .. DON-7) -----------------------------------------------------------------


@router.get("/donors", response_class=HTMLResponse)
def donor_list(request: Request, uow: ReadDonors, done: str | None = None) -> Response:
    return _donor_list(request, uow, notice=_notice(done))


def _donor_list(
    request: Request,
    uow: UnitOfWork,
    *,
    form: FormReader | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "donors.html",
        {
            "donors": donors.list_donors(uow),
            "clinic_choices": [(str(c.id), c.name) for c in clinics.list_clinics(uow)],
            "zones": clinic_zones(uow),
            "tissues": list(DonorTissue),
            "screenings": list(Screening),
            "errors": form.errors if form is not None else {},
            "values": values or {},
            "notice": notice,
        },
        status_code=status_of(form),
    )


@router.post("/donors", response_class=HTMLResponse)
def register_donor(
    request: Request, uow: CreateDonors, clock: ClockDep, ids: IdsDep, posted: Posted
) -> Response:
    form = FormReader()
    zones = {str(clinic): zone for clinic, zone in clinic_zones(uow).items()}
    form.use_zone(zones.get(str(posted.get("clinic_id", "")), "UTC"))

    def act(body: DonorIn) -> str:
        donor = donors.register_donor(uow, clock, ids, donors.RegisterDonor(**body.model_dump()))
        return str(donor.id)

    return submit_form(
        form,
        DonorIn,
        posted,
        act,
        lambda donor_id: f"/donors/{donor_id}?done=donor",
        lambda refused: _donor_list(request, uow, form=refused, values=typed(posted)),
        local=("recovered_at",),
    )


@router.get("/donors/{donor_id}", response_class=HTMLResponse)
def donor_page(
    request: Request, donor_id: UUID, uow: ReadDonors, app: AppDep, done: str | None = None
) -> Response:
    return _donor_page(request, uow, app, donor_id, notice=_notice(done))


def _donor_page(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    donor_id: UUID,
    *,
    failed: str | None = None,
    form: FormReader | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    record = donors.donor_record(uow, app.clock, donor_id)
    zone = clinics.get_clinic(uow, record.donor.clinic_id).time_zone
    return templates.TemplateResponse(
        request,
        "donor.html",
        {
            "record": record,
            "d": record.donor,
            "zone": zone,
            "now": app.clock.now(),
            "now_input": local_input(app.clock.now(), zone),
            "test_choices": [(t.value, t.label) for t in DonorTest],
            "window": specimen_window(record.donor),
            "results": list(TestResult),
            "sources": list(SpecimenSource),
            "decisions": list(DonorEligibility),
            "product_types": [t for t in ProductType if t.source is CellSource.ALLOGENEIC],
            "failed": failed,
            "errors": form.errors if form is not None else {},
            "values": values or {},
            "notice": notice,
        },
        status_code=status_of(form),
    )


def _donor_form(
    request: Request,
    uow: UnitOfWork,
    app: AppDep,
    donor_id: UUID,
    which: str,
    posted: FormData,
    schema: type[Body],
    act: Callable[[Body], str],
    *,
    local: tuple[str, ...] = (),
) -> Response:
    """One of the donor page's forms, read by the API's ``schema`` and done by ``act``."""
    record = donors.donor_record(uow, app.clock, donor_id)
    return submit_form(
        FormReader(clinics.get_clinic(uow, record.donor.clinic_id).time_zone),
        schema,
        posted,
        act,
        lambda done: f"/donors/{donor_id}?done={done}#{which}",
        lambda refused: _donor_page(
            request, uow, app, donor_id, failed=which, form=refused, values=typed(posted)
        ),
        local=local,
    )


@router.post("/donors/{donor_id}/tests", response_class=HTMLResponse)
def record_donor_test(
    request: Request, donor_id: UUID, uow: UpdateDonors, app: AppDep, posted: Posted
) -> Response:
    def act(body: DonorTestIn) -> str:
        staff = signed_in_staff(request)
        command = donors.RecordDonorTest(donor_id=donor_id, **body.model_dump())
        donors.record_donor_test(uow, app.clock, app.new_id, staff, command)
        return "test"

    return _donor_form(
        request,
        uow,
        app,
        donor_id,
        "tests",
        posted,
        DonorTestIn,
        act,
        local=("specimen_collected_at",),
    )


@router.post("/donors/{donor_id}/determination", response_class=HTMLResponse)
def determine_eligibility(
    request: Request, donor_id: UUID, uow: UpdateDonors, app: AppDep, posted: Posted
) -> Response:
    def act(body: DeterminationIn) -> str:
        signer = Signer(
            signed_in_staff(request),
            body.password,
            app.hasher,
            app.lockout,
            SignatureMeaning.APPROVAL,
            body.reason or f"Donor {body.decision}",
        )
        donors.determine_eligibility(
            uow, app.clock, app.new_id, signer, donor_id, body.decision, body.reason
        )
        return "determined"

    return _donor_form(request, uow, app, donor_id, "determination", posted, DeterminationIn, act)


@router.post("/donors/{donor_id}/products", response_class=HTMLResponse)
def receive_donor_product(
    request: Request, donor_id: UUID, uow: CreateProducts, app: AppDep, posted: Posted
) -> Response:
    def act(body: DonorProductIn) -> str:
        staff = signed_in_staff(request)
        command = donors.ReceiveDonorProduct(donor_id=donor_id, **body.model_dump())
        donors.receive_donor_product(uow, app.clock, app.new_id, app.lab, staff, command)
        return "received"

    return _donor_form(request, uow, app, donor_id, "receive", posted, DonorProductIn, act)
