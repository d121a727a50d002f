"""Products, donors, lookback and recall: the lab's and the quality officer's API."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, status

from regenpath.domain.products import ProductStatus
from regenpath.domain.signatures import SignatureMeaning
from regenpath.entrypoints.api.access import (
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
from regenpath.entrypoints.api.product_schemas import (
    CustodyIn,
    CustodyOut,
    DeterminationIn,
    DonorIn,
    DonorOut,
    DonorProductIn,
    DonorRecordOut,
    DonorTestIn,
    DonorTestOut,
    ProcessingStepIn,
    ProcessingStepOut,
    ProductOut,
    ProductRecordOut,
    QcFindingOut,
    QcRecordedOut,
    QcResultIn,
    QcResultOut,
    RecallIn,
    RecallOut,
    ReleaseIn,
    TaskOut,
    TimelineItemOut,
    TraceOut,
    TraceRowOut,
)
from regenpath.entrypoints.api.security_schemas import problem_responses
from regenpath.entrypoints.deps import AppDep, ClockDep, IdsDep, signed_in_staff
from regenpath.services import donors, lab, lookback, products
from regenpath.services.ports import ProductQuery, UnitOfWork
from regenpath.services.signatures import Signer

router = APIRouter(tags=["products"])


@router.get("/products")
def list_products(
    uow: ReadProducts,
    clock: ClockDep,
    clinic_id: UUID | None = None,
    status: ProductStatus | None = None,
    donor_id: UUID | None = None,
) -> list[ProductOut]:
    with uow:
        found = uow.products.find(
            ProductQuery(
                clinic_id=clinic_id,
                statuses=frozenset({status}) if status is not None else None,
                donor_id=donor_id,
            )
        )
    now = clock.now()
    return [ProductOut.of(p, now) for p in found]


def _record_out(uow: UnitOfWork, app: AppDep, product_id: UUID) -> ProductRecordOut:
    record = products.product_record(uow, app.clock, app.lab, product_id)
    return ProductRecordOut(
        product=ProductOut.of(record.product, app.clock.now()),
        episode_id=record.episode_id,
        qc=[
            QcFindingOut(test=f.test, status=f.status, limit=f.limit, message=f.message)
            for f in record.findings
        ],
        processing=[ProcessingStepOut.model_validate(s) for s in record.steps],
        custody=[TimelineItemOut.model_validate(t) for t in record.timeline],
    )


@router.get("/products/{product_id}")
def read_product(product_id: UUID, uow: ReadProducts, app: AppDep) -> ProductRecordOut:
    """The product's record: QC against its release specification and its whole timeline."""
    return _record_out(uow, app, product_id)


@router.post(
    "/products/{product_id}/processing-steps",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def add_processing_step(
    product_id: UUID,
    body: ProcessingStepIn,
    uow: UpdateProducts,
    request: Request,
    clock: ClockDep,
    ids: IdsDep,
) -> ProcessingStepOut:
    step = lab.add_processing_step(
        uow,
        clock,
        ids,
        signed_in_staff(request),
        lab.AddProcessingStep(product_id=product_id, **body.model_dump()),
    )
    return ProcessingStepOut.model_validate(step)


@router.post("/products/{product_id}/finish-processing", responses=problem_responses(409))
def finish_processing(product_id: UUID, uow: UpdateProducts, clock: ClockDep) -> ProductOut:
    """Processing done: the product waits for QC and release; its episode moves to processed."""
    return ProductOut.of(lab.finish_processing(uow, clock, product_id), clock.now())


@router.post(
    "/products/{product_id}/qc-results",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def record_qc_result(
    product_id: UUID,
    body: QcResultIn,
    uow: UpdateProducts,
    request: Request,
    clock: ClockDep,
    ids: IdsDep,
) -> QcRecordedOut:
    """A QC result. A value outside the test's physical range is 422 naming ``value``; a
    positive culture after the injection opens a recall task for the patient (QC-3)."""
    recorded = lab.record_qc_result(
        uow,
        clock,
        ids,
        signed_in_staff(request),
        lab.RecordQcResult(product_id=product_id, **body.model_dump()),
    )
    task = recorded.recall_task
    return QcRecordedOut(
        result=QcResultOut.model_validate(recorded.result),
        recall_task_id=task.id if task is not None else None,
    )


@router.post("/products/{product_id}/release", responses=problem_responses(409, 429))
def decide_release(
    product_id: UUID, body: ReleaseIn, uow: UpdateProducts, request: Request, app: AppDep
) -> ProductOut:
    """Release or reject under the lab technician's e-signature (DON-7): a release the QC
    specification, the donor determination or the expiry forbids is 409 with every reason."""
    signer = Signer(
        signed_in_staff(request),
        body.password,
        app.hasher,
        app.lockout,
        body.meaning,
        body.reason or ("Released after QC review" if body.decision == "release" else None),
    )
    product = lab.decide_release(
        uow,
        app.clock,
        app.new_id,
        app.lab,
        signer,
        product_id,
        release=body.decision == "release",
        reason=body.reason,
    )
    return ProductOut.of(product, app.clock.now())


@router.post(
    "/products/{product_id}/custody-events",
    status_code=status.HTTP_201_CREATED,
)
def record_custody(
    product_id: UUID,
    body: CustodyIn,
    uow: RecordCustody,
    request: Request,
    clock: ClockDep,
    ids: IdsDep,
) -> CustodyOut:
    """A handover or move; dated before the product's collection is 422 naming occurred_at."""
    event = lab.record_custody(
        uow,
        clock,
        ids,
        signed_in_staff(request),
        lab.RecordCustody(product_id=product_id, **body.model_dump()),
    )
    return CustodyOut.model_validate(event)


def _trace_out(trace: lookback.Trace) -> TraceOut:
    return TraceOut(
        origin=trace.origin,
        products=[TraceRowOut.model_validate(row) for row in trace.rows],
        recipients=trace.recipients,
        donors=trace.donors,
    )


def _recall_out(result: lookback.RecallResult) -> RecallOut:
    return RecallOut(
        trace=_trace_out(result.trace),
        withdrawn=result.withdrawn,
        tasks=[TaskOut.model_validate(t) for t in result.tasks],
    )


@router.get("/products/{product_id}/trace")
def trace_product(product_id: UUID, uow: ReadLookback, clock: ClockDep) -> TraceOut:
    """Lookback from a product: its donation (or lot) to every recipient (TRK-1)."""
    return _trace_out(lookback.trace_product(uow, clock, product_id))


@router.post("/products/{product_id}/recall")
def recall_product(
    product_id: UUID, body: RecallIn, uow: StartRecalls, clock: ClockDep, ids: IdsDep
) -> RecallOut:
    """Recall the product's donation or lot: products marked, one task per recipient."""
    return _recall_out(lookback.recall(uow, clock, ids, reason=body.reason, product_id=product_id))


@router.get("/donors")
def list_donors(uow: ReadDonors, clinic_id: UUID | None = None) -> list[DonorOut]:
    return [DonorOut.model_validate(d) for d in donors.list_donors(uow, clinic_id)]


@router.post("/donors", status_code=status.HTTP_201_CREATED)
def register_donor(body: DonorIn, uow: CreateDonors, clock: ClockDep, ids: IdsDep) -> DonorOut:
    donor = donors.register_donor(uow, clock, ids, donors.RegisterDonor(**body.model_dump()))
    return DonorOut.model_validate(donor)


def _donor_out(record: donors.DonorRecord) -> DonorRecordOut:
    return DonorRecordOut(
        donor=DonorOut.model_validate(record.donor),
        results=[DonorTestOut.model_validate(r) for r in record.results],
        supports=record.assessment.supports,
        reasons=record.assessment.reasons,
        product_ids=[p.id for p in record.products],
    )


@router.get("/donors/{donor_id}")
def read_donor(donor_id: UUID, uow: ReadDonors, clock: ClockDep) -> DonorRecordOut:
    """The donor, each test result, and what the record supports under DON-2, DON-3, DON-4."""
    return _donor_out(donors.donor_record(uow, clock, donor_id))


@router.post("/donors/{donor_id}/tests", status_code=status.HTTP_201_CREATED)
def record_donor_test(
    donor_id: UUID,
    body: DonorTestIn,
    uow: UpdateDonors,
    request: Request,
    clock: ClockDep,
    ids: IdsDep,
) -> DonorTestOut:
    result = donors.record_donor_test(
        uow,
        clock,
        ids,
        signed_in_staff(request),
        donors.RecordDonorTest(donor_id=donor_id, **body.model_dump()),
    )
    return DonorTestOut.model_validate(result)


@router.post("/donors/{donor_id}/determination", responses=problem_responses(409, 429))
def determine_eligibility(
    donor_id: UUID, body: DeterminationIn, uow: UpdateDonors, request: Request, app: AppDep
) -> DonorOut:
    """The responsible person's signed determination; "eligible" the record does not
    support is 409 listing what is missing, mistimed or reactive."""
    signer = Signer(
        signed_in_staff(request),
        body.password,
        app.hasher,
        app.lockout,
        SignatureMeaning.APPROVAL,
        body.reason or f"Donor {body.decision}",
    )
    donor = donors.determine_eligibility(
        uow, app.clock, app.new_id, signer, donor_id, body.decision, body.reason
    )
    return DonorOut.model_validate(donor)


@router.post("/donors/{donor_id}/products", status_code=status.HTTP_201_CREATED)
def receive_donor_product(
    donor_id: UUID, body: DonorProductIn, uow: CreateProducts, request: Request, app: AppDep
) -> ProductOut:
    """Book one of the donor's products into stock: a new DIN, in quarantine (DON-5)."""
    product = donors.receive_donor_product(
        uow,
        app.clock,
        app.new_id,
        app.lab,
        signed_in_staff(request),
        donors.ReceiveDonorProduct(donor_id=donor_id, **body.model_dump()),
    )
    return ProductOut.of(product, app.clock.now())


@router.get("/donors/{donor_id}/trace")
def trace_donor(donor_id: UUID, uow: ReadLookback, clock: ClockDep) -> TraceOut:
    """Lookback from a donor to every product and recipient (TRK-1)."""
    return _trace_out(lookback.trace_donor(uow, clock, donor_id))


@router.post("/donors/{donor_id}/recall")
def recall_donor(
    donor_id: UUID, body: RecallIn, uow: StartRecalls, clock: ClockDep, ids: IdsDep
) -> RecallOut:
    return _recall_out(lookback.recall(uow, clock, ids, reason=body.reason, donor_id=donor_id))


@router.get("/patients/{patient_id}/trace")
def trace_patient(patient_id: UUID, uow: ReadLookback, clock: ClockDep) -> TraceOut:
    """Lookback from a patient to every product they received and its donor (TRK-1)."""
    return _trace_out(lookback.trace_patient(uow, clock, patient_id))


@router.get("/tasks")
def list_tasks(uow: ReadTasks) -> list[TaskOut]:
    """Open tasks (recalls) of the caller's clinics, newest first."""
    return [TaskOut.model_validate(t) for t in lookback.open_tasks(uow)]
