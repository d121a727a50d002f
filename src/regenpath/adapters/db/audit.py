"""The SQL audit log: appends sealed entries and reads the chain back for verification."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from regenpath.adapters.db.pagination import decode_cursor, encode_cursor
from regenpath.adapters.db.tables import AuditChainHeadRow, AuditEventRow
from regenpath.domain.audit import GENESIS, AuditEntry, SealedEntry, seal
from regenpath.services.errors import InvalidReference
from regenpath.services.ports import AccessScope, AuditQuery, Page

HEAD = 1


class SqlAuditLog:
    def __init__(self, session: Session, scope: AccessScope | None = None) -> None:
        self.session = session
        self.scope = scope or AccessScope()

    def append(self, entry: AuditEntry) -> SealedEntry:
        # Moving the head first takes its row lock (PostgreSQL) or the write lock (SQLite), so
        # two appenders can never both read the same predecessor and fork the chain.
        moved = self.session.execute(
            update(AuditChainHeadRow)
            .where(AuditChainHeadRow.id == HEAD)
            .values(sequence=AuditChainHeadRow.sequence + 1)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]
            self.session.execute(
                insert(AuditChainHeadRow).values(id=HEAD, sequence=1, hash=GENESIS)
            )
        sequence, previous_hash = self.session.execute(
            select(AuditChainHeadRow.sequence, AuditChainHeadRow.hash).where(
                AuditChainHeadRow.id == HEAD
            )
        ).one()
        sealed = seal(entry, sequence, previous_hash)
        self.session.execute(
            insert(AuditEventRow).values(
                sequence=sealed.sequence,
                occurred_at=entry.occurred_at,
                actor=entry.actor,
                action=entry.action,
                resource_type=entry.resource_type,
                resource_id=entry.resource_id,
                clinic_id=entry.clinic_id,
                outcome=entry.outcome,
                reason=entry.reason,
                detail=entry.detail,
                previous_hash=sealed.previous_hash,
                hash=sealed.hash,
            )
        )
        self.session.execute(
            update(AuditChainHeadRow)
            .where(AuditChainHeadRow.id == HEAD)
            .values(hash=sealed.hash)
            .execution_options(synchronize_session=False)
        )
        return sealed

    def chain(self, batch: int = 5_000) -> Iterator[SealedEntry]:
        """Every entry in sequence order, streamed in batches so a long trail fits in memory."""
        after = 0
        while True:
            rows = self.session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.sequence > after)
                .order_by(AuditEventRow.sequence)
                .limit(batch)
            ).all()
            if not rows:
                return
            yield from map(_sealed, rows)
            after = rows[-1].sequence

    def head(self) -> tuple[int, str]:
        row = self.session.execute(
            select(AuditChainHeadRow.sequence, AuditChainHeadRow.hash).where(
                AuditChainHeadRow.id == HEAD
            )
        ).first()
        return (row[0], row[1]) if row is not None else (0, GENESIS)

    def storage_problems(self, *, quick: bool = False) -> list[str]:
        if self.session.get_bind().dialect.name == "sqlite":
            # quick_check skips the index-content cross-checks: O(N) instead of O(N log N).
            pragma = "quick_check" if quick else "integrity_check"
            try:
                found = [str(row[0]) for row in self.session.execute(text(f"PRAGMA {pragma}"))]
            except DBAPIError as error:  # so damaged that the check itself cannot run
                return [f"the database file fails SQLite's {pragma}: {error.orig}"]
            if found == ["ok"]:
                return []
            return [f"the database file fails SQLite's {pragma}: {line}" for line in found[:10]]
        # REC-1: rows are indelible because this trigger refuses UPDATE and DELETE
        # (migration 0002); a trail without it can be rewritten in place.
        enabled = self.session.execute(
            text(
                "SELECT t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname = 'audit_events_append_only' AND c.relname = 'audit_events'"
                " AND c.relnamespace = to_regnamespace(current_schema())::oid"
            )
        ).scalar_one_or_none()
        if enabled is None:
            return ["the append-only trigger on audit_events is missing: rows can be rewritten"]
        if enabled == "D":
            return ["the append-only trigger on audit_events is disabled: rows can be rewritten"]
        return []

    def search(self, query: AuditQuery) -> Page[SealedEntry]:
        statement = select(AuditEventRow)
        if self.scope.clinic_ids is not None:
            # Sign-ins and token events belong to no clinic; they name only an account.
            statement = statement.where(
                or_(
                    AuditEventRow.clinic_id.in_(self.scope.clinic_ids),
                    AuditEventRow.clinic_id.is_(None),
                )
            )
        for column, value in (
            (AuditEventRow.actor, query.actor),
            (AuditEventRow.action, query.action),
            (AuditEventRow.outcome, query.outcome),
            (AuditEventRow.resource_type, query.resource_type),
            (AuditEventRow.resource_id, query.resource_id),
        ):
            if value:
                statement = statement.where(column == value)
        if query.since is not None:
            statement = statement.where(AuditEventRow.occurred_at >= query.since)
        if query.until is not None:
            statement = statement.where(AuditEventRow.occurred_at < query.until)
        if query.cursor:
            (before,) = decode_cursor(query.cursor, 1)
            if not isinstance(before, int):
                raise InvalidReference("cursor", "not a cursor this server gave out")
            statement = statement.where(AuditEventRow.sequence < before)
        rows = self.session.scalars(
            statement.order_by(AuditEventRow.sequence.desc()).limit(query.limit + 1)
        ).all()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        cursor = encode_cursor([rows[-1].sequence]) if more and rows else None
        return Page(items=[_sealed(row) for row in rows], next_cursor=cursor)


def _sealed(row: AuditEventRow) -> SealedEntry:
    return SealedEntry(
        sequence=row.sequence,
        entry=AuditEntry(
            occurred_at=row.occurred_at,
            actor=row.actor,
            action=row.action,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            clinic_id=row.clinic_id,
            outcome=row.outcome,
            reason=row.reason,
            detail=row.detail,
        ),
        previous_hash=row.previous_hash,
        hash=row.hash,
    )
