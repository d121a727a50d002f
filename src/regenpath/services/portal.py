"""The patient portal's sign-in: a personal link by email (single use, short lived), then a
session of its own. Only keyed digests of the link and the cookie are stored."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from regenpath.domain.access import PatientSession, PortalLink
from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.domain.followup import FollowUpVisit
from regenpath.domain.messages import LINK_PLACEHOLDER, OutboxMessage
from regenpath.domain.patients import Clinic, Patient
from regenpath.services.audit import record
from regenpath.services.errors import InvalidReference, NotAuthenticated, NotFound
from regenpath.services.followup import (
    FollowUpSettings,
    FollowUpView,
    injected_cycle,
    load_follow_up,
)
from regenpath.services.ports import Clock, IdFactory, UnitOfWork


def queue_portal_email(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    settings: FollowUpSettings,
    patient: Patient,
    clinic_name: str,
    visit: FollowUpVisit | None = None,
    second: bool = False,
) -> OutboxMessage:
    """Write a link to the portal into the outbox, inside the caller's unit of work: a
    reminder for a time point, or the link staff send on request."""
    if not patient.email:
        raise InvalidReference("email", "the patient has no email address on record")
    now = clock.now()
    secret_link = _new_link(uow, clock, new_id, settings, patient)
    hours = round(settings.link_lifetime / timedelta(hours=1))
    if visit is None:
        subject = f"{clinic_name}: your link to the patient portal"
        opening = "Here is your personal link to your care plan and check-ins."
    else:
        subject = f"{clinic_name}: your {visit.label} check-in" + (" (reminder)" if second else "")
        opening = (
            f"It is time for your {visit.label} check-in after your treatment: a few short"
            f" questions about your pain and what you can do. Please answer by"
            f" {visit.closes_on:%d %B %Y}."
        )
    body = (
        f"Dear {patient.given_name},\n\n{opening}\n\n{LINK_PLACEHOLDER}\n\n"
        f"The link is for you only, works once and for {hours} hours. If it has expired,"
        f" ask the clinic for a new one.\n\nIf you have a problem since your treatment,"
        f" call {clinic_name}.\n\n{clinic_name}\n"
    )
    message = OutboxMessage(
        id=new_id(),
        clinic_id=patient.clinic_id,
        recipient=patient.email,
        subject=subject,
        body=body,
        created_at=now,
        purpose="portal_link" if visit is None else "follow_up_reminder",
        patient_id=patient.id,
        visit_id=visit.id if visit is not None else None,
        secret_link=secret_link,
    )
    uow.outbox.add(message)
    record(
        uow,
        clock,
        AuditAction.CREATE,
        "portal_link",
        patient.id,
        patient.clinic_id,
        detail=message.purpose,
    )
    return message


def _new_link(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, settings: FollowUpSettings, patient: Patient
) -> str:
    """A single-use, expiring sign-in link; only its keyed digest is stored."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    uow.portal.add_link(
        PortalLink(
            id=new_id(),
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            digest=settings.digest(token),
            created_at=now,
            expires_at=now + settings.link_lifetime,
        )
    )
    return f"{settings.public_url}/portal/enter?token={token}"


def demo_portal_link(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, settings: FollowUpSettings
) -> tuple[Patient, FollowUpVisit, str] | None:
    """For `regenpath demo` only: a link, shown on the terminal instead of emailed, for a
    synthetic patient whose check-in is due and not yet answered."""
    now = clock.now()
    with uow:
        for visit in uow.follow_up.open_visits(opened_by=now.date(), closed_since=now.date()):
            patient = uow.patients.get(visit.patient_id)
            answered = uow.follow_up.responses(visit_id=visit.id)
            if patient is None or not patient.email or answered:
                continue
            link = _new_link(uow, clock, new_id, settings, patient)
            record(uow, clock, AuditAction.CREATE, "portal_link", patient.id, patient.clinic_id)
            uow.commit()
            return patient, visit, link
    return None


def send_portal_link(
    uow: UnitOfWork, clock: Clock, new_id: IdFactory, settings: FollowUpSettings, patient_id: UUID
) -> OutboxMessage:
    """Staff send a patient their portal link (it leaves with the next outbox run)."""
    with uow:
        patient = uow.patients.get(patient_id)
        if patient is None:
            raise NotFound("patient", patient_id)
        clinic = uow.clinics.get(patient.clinic_id)
        name = clinic.name if clinic is not None else "Your clinic"
        message = queue_portal_email(uow, clock, new_id, settings, patient, name)
        uow.commit()
    return message


@dataclass(frozen=True)
class NewPatientSession:
    cookie: str  # given to the browser once; only its digest is stored
    session: PatientSession


def redeem_link(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    settings: FollowUpSettings,
    token: str,
    lifetime: timedelta,
) -> NewPatientSession:
    """Spend a portal link for a session. An unknown, used or expired link is refused (and
    audited) the same way, so the answer tells a guesser nothing."""
    now = clock.now()
    with uow:
        link = uow.portal.link_by_digest(settings.digest(token))
        if link is None or not link.usable(now) or not uow.portal.use_link(link.id, now):
            record(
                uow,
                clock,
                AuditAction.LOGIN,
                "portal",
                None,
                None,
                outcome=AuditOutcome.DENIED,
                detail="unknown, used or expired link",
            )
            uow.commit()
            raise NotAuthenticated("this link has been used or has expired: ask for a new one")
        cookie = secrets.token_urlsafe(32)
        session = PatientSession(
            id=new_id(),
            patient_id=link.patient_id,
            clinic_id=link.clinic_id,
            digest=settings.digest(cookie),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
        uow.portal.add_session(session)
        record(uow, clock, AuditAction.LOGIN, "portal", link.patient_id, link.clinic_id)
        uow.commit()
    return NewPatientSession(cookie, session)


def resolve_patient_session(
    uow: UnitOfWork, clock: Clock, settings: FollowUpSettings, cookie: str
) -> PatientSession | None:
    """The live session a portal cookie stands for; an ended or expired one is none."""
    with uow:
        session = uow.portal.session_by_digest(settings.digest(cookie))
    if session is None or not session.usable(clock.now()):
        return None
    return session


def end_patient_session(uow: UnitOfWork, clock: Clock, session: PatientSession) -> None:
    with uow:
        uow.portal.end_session(session.id, clock.now())
        record(uow, clock, AuditAction.LOGOUT, "portal", session.patient_id, session.clinic_id)
        uow.commit()


@dataclass(frozen=True)
class PortalHome:
    """What a signed-in patient sees first: their treatments' recovery plans, check-ins and
    scores. Only their own, because the unit of work is scoped to them."""

    patient: Patient
    clinic: Clinic
    follow_ups: list[FollowUpView]  # one per treated episode, the latest treatment first


def portal_home(
    uow: UnitOfWork, clock: Clock, settings: FollowUpSettings, patient_id: UUID
) -> PortalHome:
    with uow:
        patient = uow.patients.get(patient_id)
        clinic = uow.clinics.get(patient.clinic_id) if patient is not None else None
        if patient is None or clinic is None:
            raise NotFound("patient", patient_id)
        treated = [e for e in uow.episodes.for_patient(patient.id) if injected_cycle(e)]
        views = [load_follow_up(uow, clock, settings, episode) for episode in treated]
        uow.commit()
    views.sort(key=lambda v: v.plan.injected_on if v.plan else v.today, reverse=True)
    return PortalHome(patient, clinic, views)
