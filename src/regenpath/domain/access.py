"""Who may do what: roles, the permission table, and the one function that reads it.

The table is data (role x action x resource), checked by :func:`is_permitted`, so a reviewer
reads the whole access policy on one screen and a test can walk it. The roles and what each
person does come from DESIGN.md section 1 ("Who uses it"). Patients are a principal of their
own: they see only their own record, never through a staff role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from regenpath.domain.pathway import Stage


class Role(StrEnum):
    COORDINATOR = "coordinator"
    PHYSICIAN = "physician"
    LAB_TECHNICIAN = "lab_technician"
    NURSE = "nurse"
    QUALITY_OFFICER = "quality_officer"
    REGISTRY_ANALYST = "registry_analyst"
    CLINIC_ADMIN = "clinic_admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Action(StrEnum):
    # The values match AuditAction's, so a denial is recorded under the action it refused.
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    TRANSITION = "transition"


class Resource(StrEnum):
    CLINIC = "clinic"
    PATIENT = "patient"
    EPISODE = "episode"
    PRODUCT = "product"
    BEDSIDE_VERIFICATION = "bedside_verification"
    HARVEST = "harvest"
    INJECTION = "injection"
    CUSTODY_EVENT = "custody_event"
    DONOR = "donor"
    LOOKBACK = "lookback"
    RECALL = "recall"
    TASK = "task"
    ASSESSMENT = "assessment"  # the evaluation and its eligibility findings
    PLAN = "plan"  # the treatment plan, its price and regulatory classification
    CONSENT = "consent"  # the consent document and the patient's signature on it
    ADVERSE_EVENT = "adverse_event"
    PATIENT_REPORT = "patient_report"  # a problem a patient reported in the portal; its triage
    REGULATORY_REPORT = "regulatory_report"  # the reports due (RPT-1..3) and their submission
    DEVIATION = "deviation"  # a departure from procedure, recorded by hand
    FOLLOW_UP = "follow_up"  # the schedule, its questionnaires and scores, the recovery plan
    PORTAL_LINK = "portal_link"  # a patient's emailed sign-in link to the portal
    AUDIT_TRAIL = "audit_trail"
    STAGE_COUNTS = "stage_counts"  # de-identified aggregates: counts, never a person
    OUTCOME_REPORT = "outcome_report"  # the registry's aggregate outcomes, never a person
    DEIDENTIFIED_EXPORT = "deidentified_export"  # the registry for research (Safe Harbor)
    # FHIR Bulk Data: every identified record of the clinic out (read) or in (create).
    BULK_DATA = "bulk_data"
    USER = "user"
    API_TOKEN = "api_token"  # noqa: S105 -- the user's own tokens, a resource name


R, C, U, T = Action.READ, Action.CREATE, Action.UPDATE, Action.TRANSITION

# Every staff member reads their clinic, sees the de-identified counts and manages their own
# API tokens; the rest is what their job in DESIGN.md section 1 needs, and nothing more.
_EVERY_ROLE: dict[Resource, frozenset[Action]] = {
    Resource.CLINIC: frozenset({R}),
    Resource.STAGE_COUNTS: frozenset({R}),
    Resource.OUTCOME_REPORT: frozenset({R}),
    Resource.API_TOKEN: frozenset({R, C, U}),
}

PERMISSIONS: Mapping[Role, Mapping[Resource, frozenset[Action]]] = {
    Role.COORDINATOR: _EVERY_ROLE
    | {
        Resource.PATIENT: frozenset({R, C, U}),
        Resource.EPISODE: frozenset({R, C, T}),
        Resource.ASSESSMENT: frozenset({R}),
        Resource.PLAN: frozenset({R}),
        Resource.CONSENT: frozenset({R}),
        Resource.PRODUCT: frozenset({R}),
        Resource.TASK: frozenset({R}),
        Resource.ADVERSE_EVENT: frozenset({R}),
        Resource.PATIENT_REPORT: frozenset({R}),
        # Chases follow-ups (DESIGN.md s.1): reads them, types in answers given by phone.
        Resource.FOLLOW_UP: frozenset({R, U}),
        Resource.PORTAL_LINK: frozenset({C}),
        Resource.BULK_DATA: frozenset({C}),  # brings in referred patients' records
    },
    # Harvests and injects (DESIGN.md s.1), so records both and may check at the bedside.
    Role.PHYSICIAN: _EVERY_ROLE
    | {
        Resource.PATIENT: frozenset({R, C, U}),
        Resource.EPISODE: frozenset({R, C, T}),
        Resource.ASSESSMENT: frozenset({R, C}),
        Resource.PLAN: frozenset({R, C}),
        Resource.CONSENT: frozenset({R, C, U}),
        Resource.ADVERSE_EVENT: frozenset({R, C}),
        Resource.PATIENT_REPORT: frozenset({R, U}),  # triages what patients report
        Resource.REGULATORY_REPORT: frozenset({R}),
        Resource.DEVIATION: frozenset({C}),
        Resource.PRODUCT: frozenset({R}),
        Resource.BEDSIDE_VERIFICATION: frozenset({C}),
        Resource.HARVEST: frozenset({C}),
        Resource.INJECTION: frozenset({C}),
        Resource.CUSTODY_EVENT: frozenset({C}),
        Resource.DONOR: frozenset({R}),
        Resource.LOOKBACK: frozenset({R}),
        Resource.TASK: frozenset({R}),
        Resource.FOLLOW_UP: frozenset({R, U}),
        Resource.PORTAL_LINK: frozenset({C}),
        Resource.BULK_DATA: frozenset({R, C}),
    },
    # Receives, processes, tests, labels, releases; keeps the donor records.
    Role.LAB_TECHNICIAN: _EVERY_ROLE
    | {
        Resource.PATIENT: frozenset({R}),
        Resource.EPISODE: frozenset({R, T}),
        Resource.PRODUCT: frozenset({R, C, U}),
        Resource.CUSTODY_EVENT: frozenset({C}),
        Resource.DONOR: frozenset({R, C, U}),
        Resource.LOOKBACK: frozenset({R}),
    },
    Role.NURSE: _EVERY_ROLE
    | {
        Resource.PATIENT: frozenset({R}),
        Resource.EPISODE: frozenset({R, T}),
        Resource.PRODUCT: frozenset({R}),
        Resource.BEDSIDE_VERIFICATION: frozenset({C}),
        Resource.CUSTODY_EVENT: frozenset({C}),
        Resource.TASK: frozenset({R}),
        Resource.ADVERSE_EVENT: frozenset({R, C}),
        Resource.PATIENT_REPORT: frozenset({R, U}),
        # Recovery instructions and calls (DESIGN.md s.1).
        Resource.FOLLOW_UP: frozenset({R, U}),
        Resource.PORTAL_LINK: frozenset({C}),
    },
    # Lookback and recall are the quality officer's (DESIGN.md s.1).
    Role.QUALITY_OFFICER: _EVERY_ROLE
    | {
        Resource.PATIENT: frozenset({R}),
        Resource.EPISODE: frozenset({R}),
        Resource.ASSESSMENT: frozenset({R}),
        Resource.PLAN: frozenset({R}),
        Resource.CONSENT: frozenset({R}),
        Resource.PRODUCT: frozenset({R}),
        Resource.AUDIT_TRAIL: frozenset({R}),
        Resource.FOLLOW_UP: frozenset({R}),
        Resource.DONOR: frozenset({R}),
        Resource.LOOKBACK: frozenset({R}),
        Resource.RECALL: frozenset({C}),
        Resource.TASK: frozenset({R}),
        Resource.ADVERSE_EVENT: frozenset({R}),
        Resource.PATIENT_REPORT: frozenset({R}),
        Resource.REGULATORY_REPORT: frozenset({R, U}),
        Resource.DEVIATION: frozenset({C}),
        Resource.DEIDENTIFIED_EXPORT: frozenset({R}),
        Resource.BULK_DATA: frozenset({R}),  # hands the registry and auditors the records
    },
    # Never an identity: only the aggregates and the de-identified export (DESIGN.md s.1).
    Role.REGISTRY_ANALYST: _EVERY_ROLE | {Resource.DEIDENTIFIED_EXPORT: frozenset({R})},
    # Runs the clinic's accounts; sees no patient data.
    Role.CLINIC_ADMIN: _EVERY_ROLE
    | {
        Resource.CLINIC: frozenset({R, U}),
        Resource.USER: frozenset({R, C, U}),
    },
}

# What a patient may do in the portal, and only on their own record: every repository
# narrows to one patient for them.
PATIENT_SELF_SERVICE: frozenset[tuple[Action, Resource]] = frozenset(
    {
        (R, Resource.PATIENT),
        (R, Resource.EPISODE),
        (R, Resource.FOLLOW_UP),
        (U, Resource.FOLLOW_UP),  # answers their own questionnaires, acknowledges the plan
        (C, Resource.PATIENT_REPORT),  # "something worries me"
    }
)

# Who may move an episode into each stage: the person whose step it is (DESIGN.md section 1:
# the physician decides eligibility, signs consent, harvests and injects; the lab processes
# and releases; the nurse runs recovery; the coordinator books and chases follow-ups).
STAGE_ROLES: Mapping[Stage, frozenset[Role]] = {
    Stage.REFERRED: frozenset(),
    Stage.IN_EVALUATION: frozenset({Role.COORDINATOR, Role.PHYSICIAN}),
    Stage.ELIGIBLE: frozenset({Role.PHYSICIAN}),
    Stage.INELIGIBLE: frozenset({Role.PHYSICIAN}),
    Stage.CONSENTED: frozenset({Role.PHYSICIAN}),
    Stage.PLANNED: frozenset({Role.PHYSICIAN, Role.COORDINATOR}),
    Stage.HARVESTED: frozenset({Role.PHYSICIAN}),
    Stage.PROCESSED: frozenset({Role.LAB_TECHNICIAN}),
    Stage.RELEASED: frozenset({Role.LAB_TECHNICIAN}),
    Stage.PRODUCT_ALLOCATED: frozenset({Role.LAB_TECHNICIAN, Role.PHYSICIAN}),
    Stage.ADMINISTERED: frozenset({Role.PHYSICIAN}),
    Stage.RECOVERY: frozenset({Role.PHYSICIAN, Role.NURSE}),
    Stage.FOLLOW_UP: frozenset({Role.PHYSICIAN, Role.NURSE, Role.COORDINATOR}),
    Stage.LOST_TO_FOLLOW_UP: frozenset({Role.COORDINATOR, Role.NURSE}),
    Stage.COMPLETED: frozenset({Role.PHYSICIAN}),
    Stage.WITHDRAWN: frozenset({Role.COORDINATOR, Role.PHYSICIAN}),
}


def is_permitted(role: Role, action: Action, resource: Resource) -> bool:
    """The access policy: may ``role`` do ``action`` on ``resource``?"""
    return action in PERMISSIONS[role].get(resource, frozenset())


def may_move_to(role: Role, stage: Stage) -> bool:
    return role in STAGE_ROLES[stage]


@dataclass(frozen=True)
class StaffMember:
    """A signed-in member of staff: a role in each clinic they belong to."""

    user_id: UUID
    username: str
    display_name: str
    memberships: Mapping[UUID, Role]

    def clinics_permitting(self, action: Action, resource: Resource) -> frozenset[UUID]:
        return frozenset(
            clinic
            for clinic, role in self.memberships.items()
            if is_permitted(role, action, resource)
        )


@dataclass(frozen=True)
class PatientPrincipal:
    """A patient signed in to the portal: their own record in their own clinic, nothing else."""

    patient_id: UUID
    clinic_id: UUID

    def clinics_permitting(self, action: Action, resource: Resource) -> frozenset[UUID]:
        allowed = (action, resource) in PATIENT_SELF_SERVICE
        return frozenset({self.clinic_id}) if allowed else frozenset()


Principal = StaffMember | PatientPrincipal


@dataclass(frozen=True)
class LockoutPolicy:
    """Throttling of password guesses: ``max_failures`` wrong passwords within ``window`` lock
    the account for ``duration``; while locked, attempts are refused without checking the
    password (OWASP Authentication Cheat Sheet, "Account lockout")."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=1)
    duration: timedelta = timedelta(minutes=15)


def locked_until(failures: Sequence[datetime], policy: LockoutPolicy) -> datetime | None:
    """When the lock the failures caused ends, or None if they caused none.

    ``failures`` are the times of the wrong passwords since the last successful sign-in. The
    lock starts at the failure that completes ``max_failures`` within ``window``.
    """
    times = sorted(failures)
    n = policy.max_failures
    until: datetime | None = None
    for last in range(n - 1, len(times)):
        if times[last] - times[last - n + 1] <= policy.window:
            until = times[last] + policy.duration
    return until


@dataclass(frozen=True)
class UserAccount:
    """A staff account as stored: the password only as an Argon2 hash."""

    id: UUID
    username: str
    display_name: str  # the printed name under an electronic signature (21 CFR 11.50)
    password_hash: str
    created_at: datetime
    memberships: Mapping[UUID, Role]
    active: bool = True

    def as_staff(self) -> StaffMember:
        return StaffMember(self.id, self.username, self.display_name, dict(self.memberships))


@dataclass(frozen=True)
class ApiToken:
    """A bearer token as stored: its keyed digest, never the token itself."""

    id: UUID
    user_id: UUID
    name: str
    digest: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class StaffSession:
    """A web sign-in: the cookie's keyed digest and the CSRF token bound to it."""

    id: UUID
    user_id: UUID
    digest: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at


@dataclass(frozen=True)
class PortalLink:
    """A personal sign-in link for the portal, as stored: its keyed digest, single use, short
    lived (it travels by email, so it must be worthless once used or old)."""

    id: UUID
    patient_id: UUID
    clinic_id: UUID
    digest: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True)
class PatientSession:
    """A patient's portal sign-in after a link: the cookie's keyed digest and its CSRF token."""

    id: UUID
    patient_id: UUID
    clinic_id: UUID
    digest: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at

    @property
    def principal(self) -> PatientPrincipal:
        return PatientPrincipal(self.patient_id, self.clinic_id)
