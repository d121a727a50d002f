"""Request dependencies shared by the API and the web pages: who is asking, and what for.

Every route declares the one permission it needs with :class:`ApiAccess` or :class:`PageAccess`
(or says it is :func:`public`). The declaration authenticates the caller (a bearer token for
the API, the session cookie for pages), checks the permission table, and hands the route a
Unit of Work whose repositories see only the clinics that permission reaches. A route with no
declaration fails the persona test in tests/integration/test_access_matrix.py.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from regenpath.adapters.fhir.server import GUARDS
from regenpath.adapters.fhir.validation import FhirError
from regenpath.bootstrap import Application
from regenpath.domain.access import (
    Action,
    PatientSession,
    Principal,
    Resource,
    StaffMember,
    StaffSession,
)
from regenpath.services import authorization, identity, portal
from regenpath.services.errors import NotAuthenticated
from regenpath.services.ports import AccessScope, Clock, IdFactory, UnitOfWork

SESSION_COOKIE = "regenpath_session"
# The patient portal's own cookie: a patient's sign-in never opens a staff page, and the other
# way round, because each side reads only its own cookie and its own session table.
PORTAL_COOKIE = "regenpath_portal"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_application(request: Request) -> Application:
    application: Application = request.app.state.regenpath
    return application


AppDep = Annotated[Application, Depends(get_application)]


def get_clock(application: AppDep) -> Clock:
    return application.clock


def get_id_factory(application: AppDep) -> IdFactory:
    return application.new_id


ClockDep = Annotated[Clock, Depends(get_clock)]
IdsDep = Annotated[IdFactory, Depends(get_id_factory)]


class LoginRequired(NotAuthenticated):
    """A page needs a signed-in user: the browser goes to the sign-in page."""


class PortalSignInRequired(NotAuthenticated):
    """A portal page needs a patient session: the patient opens their emailed link again."""


class CsrfRejected(Exception):
    """A state-changing page request without this session's CSRF token."""


@dataclass(frozen=True)
class Permission:
    action: Action
    resource: Resource


def _audit_uow(application: Application, actor: str) -> UnitOfWork:
    return application.unit_of_work(AccessScope(actor=actor))


def _authorize(
    request: Request, application: Application, principal: Principal, permission: Permission
) -> UnitOfWork:
    resource_id = next(iter(request.path_params.values()), None)
    scope = authorization.authorize(
        _audit_uow(application, authorization.actor_of(principal)),
        application.clock,
        principal,
        permission.action,
        permission.resource,
        str(resource_id) if resource_id is not None else None,
    )
    if isinstance(principal, StaffMember):
        request.state.staff = principal
    request.state.scope = scope
    return application.unit_of_work(scope)


def _refuse_anonymous(request: Request, application: Application, permission: Permission) -> None:
    authorization.record_denial(
        _audit_uow(application, "anonymous"),
        application.clock,
        permission.action,
        permission.resource,
        f"no credentials: {request.method} {request.url.path}",
    )


class ApiAccess:
    """An API route's permission: a valid bearer token whose user's role allows it."""

    def __init__(self, action: Action, resource: Resource) -> None:
        self.permission = Permission(action, resource)

    def __call__(self, request: Request) -> UnitOfWork:
        application = get_application(request)
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            _refuse_anonymous(request, application, self.permission)
            raise NotAuthenticated("send Authorization: Bearer <API token>")
        staff = identity.resolve_token(
            _audit_uow(application, "anonymous"),
            application.clock,
            application.digest,
            secret.strip(),
        )
        return _authorize(request, application, staff, self.permission)


class FhirAccess:
    """A FHIR route's permission: the resource type in the path picks what is guarded
    (adapters/fhir/server.py GUARDS), so reading Observations needs the follow-up permission
    and reading Patients the patient one; ``resource`` fixes it for the Bulk Data routes."""

    def __init__(self, action: Action, resource: Resource | None = None) -> None:
        self.action = action
        self.resource = resource

    def permission_for(self, resource_type: str | None) -> Permission | None:
        if self.resource is not None:
            return Permission(self.action, self.resource)
        guarded = GUARDS.get(resource_type or "")
        if guarded is None:
            return None
        if guarded is Resource.FOLLOW_UP and self.action is Action.CREATE:
            # A new response or score is an answer entered into the follow-up, which the
            # permission table grants as updating it (the staff who chase follow-ups).
            return Permission(Action.UPDATE, guarded)
        return Permission(self.action, guarded)

    def __call__(self, request: Request) -> UnitOfWork:
        permission = self.permission_for(request.path_params.get("resource_type"))
        if permission is None:
            # An unknown type: authenticate anyway, so a stranger learns nothing, then 404.
            ApiAccess(Action.READ, Resource.CLINIC)(request)
            name = request.path_params.get("resource_type")
            raise FhirError.one(404, "not-supported", f"{name} is not served here")
        return ApiAccess(permission.action, permission.resource)(request)


def current_session(request: Request) -> tuple[StaffMember, StaffSession] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    application = get_application(request)
    return identity.resolve_session(
        application.unit_of_work(AccessScope(actor="anonymous")),
        application.clock,
        application.digest,
        cookie,
    )


class PageAccess:
    """A page's permission: a signed-in session whose user's role allows it, and on every
    state-changing request this session's CSRF token (form field or ``X-CSRF-Token``)."""

    def __init__(self, action: Action, resource: Resource) -> None:
        self.permission = Permission(action, resource)

    def __call__(
        self, request: Request, csrf_token: Annotated[str | None, Form()] = None
    ) -> UnitOfWork:
        application = get_application(request)
        signed_in = current_session(request)
        if signed_in is None:
            _refuse_anonymous(request, application, self.permission)
            raise LoginRequired()
        staff, session = signed_in
        request.state.session = session
        _check_csrf(request, session.csrf_token, csrf_token)
        return _authorize(request, application, staff, self.permission)


def _check_csrf(request: Request, expected: str, form_token: str | None) -> None:
    request.state.csrf = expected
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER) or form_token or ""
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise CsrfRejected()


def current_patient_session(request: Request) -> PatientSession | None:
    cookie = request.cookies.get(PORTAL_COOKIE)
    if not cookie:
        return None
    application = get_application(request)
    return portal.resolve_patient_session(
        application.unit_of_work(AccessScope(actor="anonymous")),
        application.clock,
        application.follow_up,
        cookie,
    )


class PortalAccess:
    """A patient portal page's permission: a patient session from a redeemed link, the
    CSRF token of that session on every state-changing request, and a Unit of Work that sees
    this one patient's records and nothing else (the scope carries the patient's id)."""

    def __init__(self, action: Action, resource: Resource) -> None:
        self.permission = Permission(action, resource)

    def __call__(
        self, request: Request, csrf_token: Annotated[str | None, Form()] = None
    ) -> UnitOfWork:
        application = get_application(request)
        session = current_patient_session(request)
        if session is None:
            _refuse_anonymous(request, application, self.permission)
            raise PortalSignInRequired("open the link in your latest email from the clinic")
        request.state.patient_session = session
        _check_csrf(request, session.csrf_token, csrf_token)
        return _authorize(request, application, session.principal, self.permission)


def signed_in_patient(request: Request) -> PatientSession:
    """The patient session the route's PortalAccess declaration resolved (it comes first)."""
    session: PatientSession = request.state.patient_session
    return session


def public() -> None:
    """Declares a route open to everyone (sign-in, health check): no patient data there."""


def signed_in_staff(request: Request) -> StaffMember:
    """The user the route's access declaration signed in; FastAPI solves that declaration first
    because it comes first among the route's parameters."""
    staff: StaffMember = request.state.staff
    return staff
