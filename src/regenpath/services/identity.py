"""Staff accounts, sign-in with throttling, web sessions and API tokens.

Secrets never rest in the database: passwords as Argon2 hashes (the ``PasswordHasher`` port),
session cookies and API tokens as a keyed digest (``Digest``, HMAC with the secret key), so a
copy of the database lets nobody sign in. Every sign-in, failure and lock-out is audited.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from regenpath.domain.access import (
    ApiToken,
    LockoutPolicy,
    Role,
    StaffMember,
    StaffSession,
    UserAccount,
    locked_until,
)
from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.domain.errors import InvalidValue
from regenpath.services.audit import record
from regenpath.services.errors import (
    DuplicateValue,
    LockedOut,
    NotAuthenticated,
    NotFound,
    WrongPassword,
)
from regenpath.services.ports import Clock, IdFactory, PasswordHasher, UnitOfWork

Digest = Callable[[str], str]

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 10  # NIST SP 800-63B 5.1.1.2 asks at least 8; staff accounts get more
TOKEN_PREFIX = "rp_"  # noqa: S105 -- marks a regenpath token, so secret scanners find leaks
MAX_TOKEN_DAYS = 365


def create_user(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    hasher: PasswordHasher,
    *,
    username: str,
    display_name: str,
    password: str,
    memberships: Mapping[UUID, Role],
) -> UserAccount:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidValue("username", "3-64 lower-case letters, digits, dots, dashes")
    if not display_name.strip():
        raise InvalidValue("display_name", "the printed name is required (it signs records)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    if not memberships:
        raise InvalidValue("memberships", "a user needs a role in at least one clinic")
    user = UserAccount(
        id=new_id(),
        username=username,
        display_name=display_name.strip(),
        password_hash=hasher.hash(password),
        created_at=clock.now(),
        memberships=dict(memberships),
    )
    with uow:
        if uow.users.by_username(username) is not None:
            raise DuplicateValue("username", f"{username} is taken")
        for clinic_id in memberships:
            if uow.clinics.get(clinic_id) is None:
                raise InvalidValue("memberships", f"no clinic {clinic_id}")
        uow.users.add(user)
        roles = ", ".join(f"{role} in {clinic}" for clinic, role in memberships.items())
        record(uow, clock, AuditAction.CREATE, "user", user.id, None, detail=f"{username}: {roles}")
        uow.commit()
    return user


def grant_role(
    uow: UnitOfWork, clock: Clock, username: str, clinic_id: UUID, role: Role
) -> UserAccount:
    """Give a user a role in another clinic (or a new role in one they belong to)."""
    with uow:
        user = uow.users.by_username(username.strip().lower())
        if user is None:
            raise NotFound("user", username)
        if uow.clinics.get(clinic_id) is None:
            raise NotFound("clinic", clinic_id)
        uow.users.set_role(user.id, clinic_id, role)
        record(uow, clock, AuditAction.UPDATE, "user", user.id, clinic_id, detail=f"role {role}")
        updated = uow.users.get(user.id)
        uow.commit()
    assert updated is not None
    return updated


def sign_in(
    uow: UnitOfWork,
    clock: Clock,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    username: str,
    password: str,
    *,
    purpose: str = "sign-in",
) -> UserAccount:
    """Check a password, with throttling: while locked, refuse without checking it.

    Raises LockedOut or WrongPassword; either way the attempt is audited. An unknown user name
    costs the same hash as a known one, so timing does not tell which names exist.
    """
    username = username.strip().lower()[:64]
    now = clock.now()
    with uow:
        window_start = now - policy.window - policy.duration
        until = locked_until(uow.credentials.failures_since_success(username, window_start), policy)
        if until is not None and now < until:
            _attempt(uow, clock, username, AuditOutcome.DENIED, f"{purpose}: locked until {until}")
            uow.commit()
            raise LockedOut(until)
        user = uow.users.by_username(username)
        stored = user.password_hash if user is not None and user.active else hasher.decoy_hash
        right = hasher.verify(stored, password) and user is not None and user.active
        uow.credentials.record_attempt(username, now, succeeded=right)
        outcome = AuditOutcome.SUCCEEDED if right else AuditOutcome.FAILED
        _attempt(uow, clock, username, outcome, purpose)
        uow.commit()
    if not right or user is None:
        raise WrongPassword()
    return user


def _attempt(
    uow: UnitOfWork, clock: Clock, username: str, outcome: AuditOutcome, detail: str
) -> None:
    record(uow, clock, AuditAction.LOGIN, "user", username, None, outcome=outcome, detail=detail)


def reauthenticate(
    uow: UnitOfWork,
    clock: Clock,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    signer: StaffMember,
    password: str,
) -> None:
    """A signature's own password check (21 CFR 11.200(a)(1)): same throttling as sign-in."""
    sign_in(uow, clock, hasher, policy, signer.username, password, purpose="e-signature")


@dataclass(frozen=True)
class NewSession:
    cookie: str  # given to the browser once; only its digest is stored
    session: StaffSession


def start_session(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    digest: Digest,
    user: UserAccount,
    lifetime: timedelta,
) -> NewSession:
    cookie = secrets.token_urlsafe(32)
    now = clock.now()
    session = StaffSession(
        id=new_id(),
        user_id=user.id,
        digest=digest(cookie),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    with uow:
        uow.credentials.add_session(session)
        uow.commit()
    return NewSession(cookie, session)


def resolve_session(
    uow: UnitOfWork, clock: Clock, digest: Digest, cookie: str
) -> tuple[StaffMember, StaffSession] | None:
    with uow:
        session = uow.credentials.session_by_digest(digest(cookie))
        if session is None or not session.usable(clock.now()):
            return None
        user = uow.users.get(session.user_id)
    if user is None or not user.active:
        return None
    return user.as_staff(), session


def end_session(uow: UnitOfWork, clock: Clock, session: StaffSession, who: str) -> None:
    with uow:
        uow.credentials.end_session(session.id, clock.now())
        record(uow, clock, AuditAction.LOGOUT, "user", who, None)
        uow.commit()


@dataclass(frozen=True)
class NewToken:
    secret: str  # shown once; only its digest is stored
    token: ApiToken


def create_token(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    digest: Digest,
    *,
    username: str,
    name: str,
    days: int = 90,
) -> NewToken:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidValue("days", f"a token lives 1 to {MAX_TOKEN_DAYS} days")
    name = name.strip() or "API token"
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with uow:
        user = uow.users.by_username(username.strip().lower())
        if user is None or not user.active:
            raise NotFound("user", username)
        token = ApiToken(
            id=new_id(),
            user_id=user.id,
            name=name[:100],
            digest=digest(secret),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        uow.credentials.add_token(token)
        record(uow, clock, AuditAction.CREATE, "api_token", token.id, None, detail=user.username)
        uow.commit()
    return NewToken(secret, token)


def resolve_token(uow: UnitOfWork, clock: Clock, digest: Digest, secret: str) -> StaffMember:
    """The staff member a bearer token stands for. A refused token raises NotAuthenticated
    and is audited (who tried is not known: only the token's record, when there is one)."""
    now = clock.now()
    with uow:
        token = uow.credentials.token_by_digest(digest(secret))
        user = uow.users.get(token.user_id) if token is not None else None
        if token is None or user is None or not user.active or not token.usable(now):
            why = "unknown token" if token is None else "expired, revoked or inactive"
            record(
                uow,
                clock,
                AuditAction.AUTHENTICATE,
                "api_token",
                token.id if token is not None else None,
                None,
                outcome=AuditOutcome.DENIED,
                detail=why,
            )
            uow.commit()
            raise NotAuthenticated("the token is not valid (unknown, expired or revoked)")
        uow.credentials.touch_token(token.id, now)
        uow.commit()
    return user.as_staff()


def tokens_of(uow: UnitOfWork, user_id: UUID) -> list[ApiToken]:
    with uow:
        return uow.credentials.tokens_of(user_id)


def revoke_token(uow: UnitOfWork, clock: Clock, user_id: UUID, token_id: UUID) -> None:
    with uow:
        if not uow.credentials.revoke_token(token_id, user_id, clock.now()):
            raise NotFound("api_token", token_id)
        record(uow, clock, AuditAction.REVOKE, "api_token", token_id, None)
        uow.commit()


def members(uow: UnitOfWork) -> list[UserAccount]:
    with uow:
        return uow.users.members()
