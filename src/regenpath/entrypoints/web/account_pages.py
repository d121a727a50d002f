"""Signing in and out, and the signed-in user's own page: roles and API tokens.

Sessions are server-side: the cookie is a random secret (HttpOnly, Secure, SameSite=Lax) whose
keyed digest finds the session row, so signing out or rotating the secret key ends it at once.
The sign-in form itself is protected from login CSRF by a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from regenpath.domain.access import Action, Resource, StaffMember
from regenpath.entrypoints.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    AppDep,
    current_session,
    public,
    signed_in_staff,
)
from regenpath.entrypoints.web.access import (
    CreateOwnTokens,
    ReadOwnTokens,
    RevokeOwnTokens,
)
from regenpath.entrypoints.web.rendering import page_error, templates
from regenpath.services import clinics, identity
from regenpath.services.errors import LockedOut, NotFound, WrongPassword
from regenpath.services.ports import AccessScope, UnitOfWork

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "regenpath_login_csrf"


def home_of(staff: StaffMember) -> str:
    """Where a person's work starts: the worklist for clinical staff, else their own page."""
    if staff.clinics_permitting(Action.READ, Resource.EPISODE):
        return "/worklist"
    if staff.clinics_permitting(Action.READ, Resource.STAGE_COUNTS) and not (
        staff.clinics_permitting(Action.READ, Resource.USER)
    ):
        return "/reports"
    return "/account"


def _safe_next(target: str) -> str | None:
    """Only a path on this site: never an open redirect to another host."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return None


def _login_page(
    request: Request, *, next_path: str, error: str | None = None, status_code: int = 200
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"login_csrf": token, "next_path": next_path, "error": error},
        status_code=status_code,
    )
    application = request.app.state.regenpath
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=application.settings.cookie_secure,
        samesite="strict",
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse, dependencies=[Depends(public)])
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next_path=_safe_next(next) or "/")


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(public)])
def login(
    request: Request,
    app: AppDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    login_csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    next_path = _safe_next(next) or "/"
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), login_csrf.encode()):
        return _login_page(
            request,
            next_path=next_path,
            error="The sign-in form expired; please try again.",
            status_code=403,
        )
    audit_uow = app.unit_of_work(AccessScope(actor=username.strip().lower()[:64] or "anonymous"))
    try:
        user = identity.sign_in(audit_uow, app.clock, app.hasher, app.lockout, username, password)
    except LockedOut as error:
        return _login_page(request, next_path=next_path, error=f"{error}.", status_code=429)
    except WrongPassword as error:
        return _login_page(request, next_path=next_path, error=f"{error}.", status_code=401)
    started = identity.start_session(
        app.unit_of_work(), app.clock, app.new_id, app.digest, user, app.session_lifetime
    )
    target = next_path if next_path != "/" else home_of(user.as_staff())
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        started.cookie,
        httponly=True,
        secure=app.settings.cookie_secure,
        samesite="lax",
        max_age=int(app.session_lifetime.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", dependencies=[Depends(public)])
def logout(
    request: Request, app: AppDep, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    signed_in = current_session(request)
    if signed_in is not None:
        staff, session = signed_in
        presented = request.headers.get(CSRF_HEADER) or csrf_token
        if not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
            return page_error(request, 403, "That sign-out did not come from this site.")
        identity.end_session(
            app.unit_of_work(AccessScope(actor=staff.username)), app.clock, session, staff.username
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, uow: ReadOwnTokens) -> Response:
    return _account_page(request, uow)


def _account_page(
    request: Request, uow: UnitOfWork, new_secret: str | None = None, status_code: int = 200
) -> Response:
    staff = signed_in_staff(request)
    names = {c.id: c.name for c in clinics.list_clinics(uow)}
    return templates.TemplateResponse(
        request,
        "account.html",
        {
            "memberships": [
                (names.get(clinic, str(clinic)), role) for clinic, role in staff.memberships.items()
            ],
            "tokens": identity.tokens_of(uow, staff.user_id),
            "new_secret": new_secret,
            "now": request.app.state.regenpath.clock.now(),
        },
        status_code=status_code,
    )


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    uow: CreateOwnTokens,
    app: AppDep,
    name: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[int, Form(ge=1, le=identity.MAX_TOKEN_DAYS)] = 90,
) -> Response:
    created = identity.create_token(
        uow,
        app.clock,
        app.new_id,
        app.digest,
        username=signed_in_staff(request).username,
        name=name,
        days=days,
    )
    return _account_page(request, uow, new_secret=created.secret, status_code=201)


@router.post("/account/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, token_id: UUID, uow: RevokeOwnTokens, app: AppDep) -> Response:
    try:
        identity.revoke_token(uow, app.clock, signed_in_staff(request).user_id, token_id)
    except NotFound:
        return page_error(request, 404, "No such token of yours.")
    return RedirectResponse("/account", status_code=303)
