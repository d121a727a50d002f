"""The SQL audit log: appends sealed entries and reads the chain back for verification."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from regenpath.adapters.db.tables import AuditChainHeadRow, AuditEventRow
from regenpath.domain.audit import GENESIS, AuditEntry, SealedEntry, seal

HEAD = 1


class SqlAuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

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
            for row in rows:
                yield SealedEntry(
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
            after = rows[-1].sequence

    def head(self) -> tuple[int, str]:
        row = self.session.execute(
            select(AuditChainHeadRow.sequence, AuditChainHeadRow.hash).where(
                AuditChainHeadRow.id == HEAD
            )
        ).first()
        return (row[0], row[1]) if row is not None else (0, GENESIS)
