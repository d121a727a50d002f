"""SQL repositories for accounts, credentials and signatures."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from regenpath.adapters.db.tables import (
    ApiTokenRow,
    ClinicMembershipRow,
    LoginAttemptRow,
    SignatureRow,
    StaffSessionRow,
    UserRow,
)
from regenpath.domain.access import ApiToken, Role, StaffSession, UserAccount
from regenpath.domain.signatures import Signature
from regenpath.services.ports import AccessScope


class SqlUserRepository:
    def __init__(self, session: Session, scope: AccessScope) -> None:
        self.session = session
        self.scope = scope

    def add(self, user: UserAccount) -> None:
        self.session.add(
            UserRow(
                id=user.id,
                username=user.username,
                display_name=user.display_name,
                password_hash=user.password_hash,
                active=user.active,
                created_at=user.created_at,
                memberships=[
                    ClinicMembershipRow(clinic_id=clinic, role=role)
                    for clinic, role in user.memberships.items()
                ],
            )
        )
        self.session.flush()

    def get(self, user_id: UUID) -> UserAccount | None:
        row = self.session.get(UserRow, user_id)
        return _user(row) if row is not None else None

    def by_username(self, username: str) -> UserAccount | None:
        row = self.session.scalar(select(UserRow).where(UserRow.username == username))
        return _user(row) if row is not None else None

    def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        self.session.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        )

    def set_role(self, user_id: UUID, clinic_id: UUID, role: Role) -> None:
        membership = self.session.get(ClinicMembershipRow, (user_id, clinic_id))
        if membership is None:
            self.session.add(ClinicMembershipRow(user_id=user_id, clinic_id=clinic_id, role=role))
        else:
            membership.role = role
        self.session.flush()

    def members(self) -> list[UserAccount]:
        statement = select(UserRow).order_by(UserRow.username)
        if self.scope.clinic_ids is not None:
            statement = statement.where(
                UserRow.id.in_(
                    select(ClinicMembershipRow.user_id).where(
                        ClinicMembershipRow.clinic_id.in_(self.scope.clinic_ids)
                    )
                )
            )
        return [_user(row) for row in self.session.scalars(statement)]


def _user(row: UserRow) -> UserAccount:
    return UserAccount(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        password_hash=row.password_hash,
        created_at=row.created_at,
        memberships={m.clinic_id: m.role for m in row.memberships},
        active=row.active,
    )


class SqlCredentialRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_session(self, session: StaffSession) -> None:
        self.session.add(
            StaffSessionRow(
                id=session.id,
                user_id=session.user_id,
                digest=session.digest,
                csrf_token=session.csrf_token,
                created_at=session.created_at,
                expires_at=session.expires_at,
            )
        )

    def session_by_digest(self, digest: str) -> StaffSession | None:
        row = self.session.scalar(select(StaffSessionRow).where(StaffSessionRow.digest == digest))
        if row is None:
            return None
        return StaffSession(
            id=row.id,
            user_id=row.user_id,
            digest=row.digest,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
        )

    def end_session(self, session_id: UUID, now: datetime) -> None:
        self.session.execute(
            update(StaffSessionRow)
            .where(StaffSessionRow.id == session_id, StaffSessionRow.ended_at.is_(None))
            .values(ended_at=now)
        )

    def add_token(self, token: ApiToken) -> None:
        self.session.add(
            ApiTokenRow(
                id=token.id,
                user_id=token.user_id,
                name=token.name,
                digest=token.digest,
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
        )

    def token_by_digest(self, digest: str) -> ApiToken | None:
        row = self.session.scalar(select(ApiTokenRow).where(ApiTokenRow.digest == digest))
        return _token(row) if row is not None else None

    def tokens_of(self, user_id: UUID) -> list[ApiToken]:
        rows = self.session.scalars(
            select(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id)
            .order_by(ApiTokenRow.created_at.desc())
        )
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: UUID, user_id: UUID, now: datetime) -> bool:
        result = self.session.execute(
            update(ApiTokenRow)
            .where(
                ApiTokenRow.id == token_id,
                ApiTokenRow.user_id == user_id,
                ApiTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def touch_token(self, token_id: UUID, now: datetime) -> None:
        self.session.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now)
        )

    def record_attempt(self, username: str, at: datetime, succeeded: bool) -> None:
        self.session.add(LoginAttemptRow(username=username, attempted_at=at, succeeded=succeeded))

    def failures_since_success(self, username: str, since: datetime) -> list[datetime]:
        last_success = (
            select(func.max(LoginAttemptRow.attempted_at))
            .where(LoginAttemptRow.username == username, LoginAttemptRow.succeeded.is_(True))
            .scalar_subquery()
        )
        rows = self.session.scalars(
            select(LoginAttemptRow.attempted_at)
            .where(
                LoginAttemptRow.username == username,
                LoginAttemptRow.succeeded.is_(False),
                LoginAttemptRow.attempted_at > since,
                LoginAttemptRow.attempted_at > func.coalesce(last_success, since),
            )
            .order_by(LoginAttemptRow.attempted_at)
        )
        return list(rows)


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        digest=row.digest,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class SqlSignatureRepository:
    def __init__(self, session: Session, scope: AccessScope) -> None:
        self.session = session
        self.scope = scope

    def add(self, signature: Signature) -> None:
        self.session.add(
            SignatureRow(
                id=signature.id,
                clinic_id=signature.clinic_id,
                resource_type=signature.resource_type,
                resource_id=signature.resource_id,
                signer_id=signature.signer_id,
                printed_name=signature.printed_name,
                meaning=signature.meaning,
                signed_at=signature.signed_at,
                content_hash=signature.content_hash,
                statement=signature.statement,
            )
        )

    def for_resource(self, resource_type: str, resource_id: UUID) -> list[Signature]:
        statement = select(SignatureRow).where(
            SignatureRow.resource_type == resource_type, SignatureRow.resource_id == resource_id
        )
        if self.scope.clinic_ids is not None:
            statement = statement.where(SignatureRow.clinic_id.in_(self.scope.clinic_ids))
        rows = self.session.scalars(statement.order_by(SignatureRow.signed_at))
        return [
            Signature(
                id=r.id,
                clinic_id=r.clinic_id,
                resource_type=r.resource_type,
                resource_id=r.resource_id,
                signer_id=r.signer_id,
                printed_name=r.printed_name,
                meaning=r.meaning,
                signed_at=r.signed_at,
                content_hash=r.content_hash,
                statement=r.statement,
            )
            for r in rows
        ]
