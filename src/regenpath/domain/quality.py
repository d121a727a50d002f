"""Processing steps, QC results and the release specification they are checked against.

QC-1 (docs/rules.md; FDA-advised release tests): sterility, identity, viability
generally above 70 %, a cell-count range. Point-of-care 361/SSP products have no regulatory
release specification, so the limits here are clinic SOP defaults, each configurable.
QC-3: TNC per mL and in total, platelets, CD34+; culture results arrive after the injection,
so a positive culture then recalls the patient (services/lab.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import Guard, GuardFailure, InvalidValue
from regenpath.domain.products import ProductType


class ProcessingKind(StrEnum):
    CENTRIFUGATION = "centrifugation"
    CONCENTRATION = "concentration"
    WASHING = "washing"
    FILTRATION = "filtration"
    MICROFRAGMENTATION = "microfragmentation"
    ENZYMATIC_DIGESTION = "enzymatic_digestion"
    THAWING = "thawing"
    DILUTION = "dilution"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class ProcessingStep:
    """One step of processing: what, when, by whom, on which device (REC-1)."""

    id: UUID
    product_id: UUID
    kind: ProcessingKind
    started_at: datetime
    ended_at: datetime
    performed_by: str
    device: str
    notes: str | None = None

    def __post_init__(self) -> None:
        if self.ended_at < self.started_at:
            raise InvalidValue("ended_at", "a step ends after it starts")
        if not self.device.strip():
            raise InvalidValue("device", "name the device (and its serial number)")


class QcTest(StrEnum):
    TNC_PER_ML = "tnc_per_ml"
    VIABILITY = "viability"
    CD34 = "cd34"
    PLATELETS = "platelets"
    VOLUME = "volume"
    GRAM_STAIN = "gram_stain"
    STERILITY_CULTURE = "sterility_culture"

    @property
    def measure(self) -> QcMeasure:
        return QC_MEASURES[self]


class QcOutcome(StrEnum):
    """The result of a stain or culture: negative means no organisms, no growth."""

    NEGATIVE = "negative"
    POSITIVE = "positive"


@dataclass(frozen=True)
class QcMeasure:
    label: str
    unit: str  # UCUM where there is one
    low: float | None = None  # the physical range: a value outside it is a typing error
    high: float | None = None

    @property
    def numeric(self) -> bool:
        return self.low is not None


QC_MEASURES: Mapping[QcTest, QcMeasure] = {
    QcTest.TNC_PER_ML: QcMeasure("Total nucleated cells", "10*6/mL", 0.0, 10_000.0),
    QcTest.VIABILITY: QcMeasure("Viability", "%", 0.0, 100.0),
    QcTest.CD34: QcMeasure("CD34+ cells", "%", 0.0, 100.0),
    QcTest.PLATELETS: QcMeasure("Platelets", "10*3/uL", 0.0, 20_000.0),
    QcTest.VOLUME: QcMeasure("Volume", "mL", 0.0, 1_000.0),
    QcTest.GRAM_STAIN: QcMeasure("Gram stain", ""),
    QcTest.STERILITY_CULTURE: QcMeasure("Sterility culture", ""),
}


@dataclass(frozen=True)
class QcResult:
    id: UUID
    product_id: UUID
    test: QcTest
    measured_at: datetime
    recorded_by: str
    value: float | None = None
    outcome: QcOutcome | None = None
    method: str | None = None

    def __post_init__(self) -> None:
        measure = self.test.measure
        if measure.numeric:
            assert measure.low is not None and measure.high is not None
            if self.value is None:
                raise InvalidValue("value", f"give the {measure.label.lower()} as a number")
            if not measure.low <= self.value <= measure.high:
                raise InvalidValue(
                    "value",
                    f"{self.value:g} {measure.unit} is outside the physical range of "
                    f"{measure.label.lower()} ({measure.low:g}-{measure.high:g} {measure.unit})",
                )
        elif self.outcome is None:
            raise InvalidValue("outcome", f"give the {measure.label.lower()} as negative/positive")

    @property
    def is_positive_microbiology(self) -> bool:
        return self.outcome is QcOutcome.POSITIVE

    @property
    def display(self) -> str:
        if self.value is not None:
            return f"{self.value:g} {self.test.measure.unit}".strip()
        return str(self.outcome)


@dataclass(frozen=True)
class Limit:
    low: float | None = None
    high: float | None = None

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g}-{self.high:g}"
        return f">= {self.low:g}" if self.low is not None else f"<= {self.high:g}"


@dataclass(frozen=True)
class ReleaseSpecification:
    """What a product type must show before release; ``required`` tests must be on record,
    ``negative_if_done`` microbiology may come later but must not be positive."""

    product_type: ProductType
    limits: Mapping[QcTest, Limit]
    required: frozenset[QcTest]
    negative_if_done: frozenset[QcTest]
    source: str


_VIABLE = Limit(low=70.0)  # QC-1: viability generally > 70 %
_MICROBIOLOGY = frozenset({QcTest.GRAM_STAIN, QcTest.STERILITY_CULTURE})


def _spec(product_type: ProductType, **limits: Limit) -> ReleaseSpecification:
    tests = {QcTest(name): limit for name, limit in limits.items()}
    return ReleaseSpecification(
        product_type=product_type,
        limits=tests,
        required=frozenset(tests),
        negative_if_done=_MICROBIOLOGY,
        source="QC-1 viability > 70 %; QC-3 cell counts; clinic SOP defaults [U]",
    )


DEFAULT_RELEASE_SPECIFICATIONS: Mapping[ProductType, ReleaseSpecification] = {
    ProductType.BMA: _spec(ProductType.BMA, viability=_VIABLE, volume=Limit(1, 200)),
    # QC-3: raw aspirate holds about 30 x 10^6 TNC/mL; a concentrate should hold more.
    ProductType.BMAC: _spec(
        ProductType.BMAC, viability=_VIABLE, tnc_per_ml=Limit(low=30.0), volume=Limit(1, 30)
    ),
    ProductType.MICROFRAGMENTED_ADIPOSE: _spec(
        ProductType.MICROFRAGMENTED_ADIPOSE, volume=Limit(1, 100)
    ),
    ProductType.ADIPOSE_SVF: _spec(
        ProductType.ADIPOSE_SVF, viability=_VIABLE, tnc_per_ml=Limit(low=1.0), volume=Limit(1, 50)
    ),
    ProductType.CORD_BLOOD: _spec(ProductType.CORD_BLOOD, viability=_VIABLE, volume=Limit(1, 50)),
    ProductType.UMBILICAL_CORD_MSC: _spec(
        ProductType.UMBILICAL_CORD_MSC, viability=_VIABLE, volume=Limit(0.5, 20)
    ),
}


class FindingStatus(StrEnum):
    PASS = "pass"  # noqa: S105 -- a QC finding, not a password
    FAIL = "fail"
    MISSING = "missing"
    PENDING = "pending"  # optional microbiology not back yet


@dataclass(frozen=True)
class QcFinding:
    test: QcTest
    status: FindingStatus
    result: QcResult | None
    limit: str

    @property
    def message(self) -> str:
        label = self.test.measure.label
        if self.status is FindingStatus.MISSING:
            return f"{label}: no result on record."
        if self.status is FindingStatus.FAIL and self.result is not None:
            return f"{label} {self.result.display} does not meet the specification ({self.limit})."
        return f"{label}: {self.status}."


def latest_results(results: Iterable[QcResult]) -> dict[QcTest, QcResult]:
    """The latest result of each test: a repeated test replaces the earlier one."""
    latest: dict[QcTest, QcResult] = {}
    for result in sorted(results, key=lambda r: r.measured_at):
        latest[result.test] = result
    return latest


def evaluate_qc(spec: ReleaseSpecification, results: Iterable[QcResult]) -> list[QcFinding]:
    """Each test of the specification, passed, failed, missing or pending (QC-1, QC-3)."""
    latest = latest_results(results)
    findings: list[QcFinding] = []
    for test, limit in spec.limits.items():
        result = latest.get(test)
        if result is None or result.value is None:
            status = FindingStatus.MISSING if test in spec.required else FindingStatus.PENDING
        else:
            status = FindingStatus.PASS if limit.holds(result.value) else FindingStatus.FAIL
        findings.append(QcFinding(test, status, result, str(limit)))
    for test in sorted(spec.negative_if_done):
        result = latest.get(test)
        if result is None:
            findings.append(QcFinding(test, FindingStatus.PENDING, None, "negative"))
        else:
            passed = result.outcome is QcOutcome.NEGATIVE
            status = FindingStatus.PASS if passed else FindingStatus.FAIL
            findings.append(QcFinding(test, status, result, "negative"))
    return findings


def qc_failures(findings: Iterable[QcFinding]) -> list[GuardFailure]:
    return [
        GuardFailure(Guard.QC_SPECIFICATION_NOT_MET, finding.message)
        for finding in findings
        if finding.status in (FindingStatus.FAIL, FindingStatus.MISSING)
    ]
