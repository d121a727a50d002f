"""Work that someone must do about a patient or a product: recall tasks and deviations.

TRK-1 (21 CFR 1271.290): tracking runs both ways so that a recall reaches every recipient;
each recipient gets a task. BED-1: a bedside mismatch is a hard stop and a deviation.
Deviations feed the regulatory clocks of the safety issue (RPT-2, Form FDA 3486).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class TaskKind(StrEnum):
    PATIENT_RECALL = "patient_recall"  # contact, examine, and follow up a recipient
    SAFETY_SIGNAL = "safety_signal"  # a lot, donor, clinic or practitioner above its baseline
    FOLLOW_UP_CALL = "follow_up_call"  # the reminder ladder's third rung: phone the patient
    FOLLOW_UP_LETTER = "follow_up_letter"  # its last rung: write to the patient
    PATIENT_REPORT = "patient_report"  # a problem the patient reported in the portal: triage it

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass
class Task:
    id: UUID
    clinic_id: UUID
    kind: TaskKind
    title: str
    reason: str
    opened_at: datetime
    patient_id: UUID | None = None
    product_id: UUID | None = None
    status: TaskStatus = TaskStatus.OPEN
    closed_at: datetime | None = None
    visit_id: UUID | None = None  # the follow-up time point a reminder task chases
    patient_report_id: UUID | None = None  # the patient's report a triage task is about


class DeviationKind(StrEnum):
    BEDSIDE_MISMATCH = "bedside_mismatch"
    UNRELEASED_PRODUCT_USE_ATTEMPT = "unreleased_product_use_attempt"
    POSITIVE_CULTURE_AFTER_RELEASE = "positive_culture_after_release"
    PROTOCOL = "protocol"
    # SITE-1, CON-1: the time-out stopped an injection that differed from the consented plan
    # or the episode's site or side; nothing was injected (a near miss).
    TIME_OUT_STOP = "time_out_stop"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Deviation:
    id: UUID
    clinic_id: UUID
    kind: DeviationKind
    description: str
    discovered_at: datetime
    recorded_by: str
    product_id: UUID | None = None
    patient_id: UUID | None = None
    episode_id: UUID | None = None
    distributed: bool = False  # the product had left the lab (RPT-2 applies to distributed ones)
