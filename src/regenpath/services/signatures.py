"""Electronic signatures: re-authenticate, bind to the content's hash, show what still holds.

The first signed act is closing an episode; eligibility overrides, consent and QC release
sign the same way (their issues). See domain/signatures.py for the Part 11 sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from regenpath.domain.access import LockoutPolicy, StaffMember
from regenpath.domain.audit import AuditAction
from regenpath.domain.episodes import Episode
from regenpath.domain.pathway import Stage
from regenpath.domain.signatures import Signature, SignatureMeaning, SignatureStatus, content_hash
from regenpath.services import identity
from regenpath.services.audit import failures_recorded, record
from regenpath.services.episodes import TransitionCommand, TransitionResult, apply_transition
from regenpath.services.errors import NotFound
from regenpath.services.ports import Clock, IdFactory, PasswordHasher, UnitOfWork


@dataclass(frozen=True)
class CloseEpisode:
    episode_id: UUID
    expected_version: int
    password: str
    meaning: SignatureMeaning = SignatureMeaning.RESPONSIBILITY
    statement: str | None = None


@dataclass(frozen=True)
class SignedRecord:
    signature: Signature
    status: SignatureStatus


@dataclass(frozen=True)
class Signer:
    """Who signs, with the password they re-entered for this signature (21 CFR 11.200(a))."""

    staff: StaffMember
    password: str
    hasher: PasswordHasher
    policy: LockoutPolicy
    meaning: SignatureMeaning = SignatureMeaning.APPROVAL
    statement: str | None = None

    def reauthenticate(self, uow: UnitOfWork, clock: Clock) -> None:
        identity.reauthenticate(uow, clock, self.hasher, self.policy, self.staff, self.password)


def add_signature(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    signer: Signer,
    resource_type: str,
    resource_id: UUID,
    clinic_id: UUID,
    content: Mapping[str, Any],
) -> Signature:
    """Store a signature bound to ``content`` and its audit entry, in the caller's transaction."""
    signature = Signature(
        id=new_id(),
        clinic_id=clinic_id,
        resource_type=resource_type,
        resource_id=resource_id,
        signer_id=signer.staff.user_id,
        printed_name=signer.staff.display_name,
        meaning=signer.meaning,
        signed_at=clock.now(),
        content_hash=content_hash(content),
        statement=signer.statement,
    )
    uow.signatures.add(signature)
    record(
        uow,
        clock,
        AuditAction.SIGN,
        resource_type,
        resource_id,
        clinic_id,
        reason=signer.statement,
        detail=f"{signer.meaning} by {signer.staff.display_name}; {signature.content_hash}",
    )
    return signature


def close_episode(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    signed_by: StaffMember,
    command: CloseEpisode,
) -> TransitionResult:
    """Complete an episode under the physician's signature: both or neither are stored.

    Raises WrongPassword or LockedOut (the re-authentication), then whatever a transition
    raises (PermissionDenied, TransitionRefused, StaleVersion, NotFound).
    """
    with failures_recorded(uow, clock, AuditAction.SIGN, "episode", command.episode_id):
        with uow:
            # Another clinic's episode is "not found" before any password is asked for.
            if uow.episodes.get(command.episode_id) is None:
                raise NotFound("episode", command.episode_id)
        identity.reauthenticate(uow, clock, hasher, policy, signed_by, command.password)

        signer = Signer(
            signed_by, command.password, hasher, policy, command.meaning, command.statement
        )

        def sign(episode: Episode) -> None:
            patient = uow.patients.get(episode.patient_id)
            if patient is None:
                raise NotFound("patient", episode.patient_id)
            content = episode.signed_record(patient)
            add_signature(
                uow, clock, new_id, signer, "episode", episode.id, episode.clinic_id, content
            )

        return apply_transition(
            uow,
            clock,
            new_id,
            TransitionCommand(
                episode_id=command.episode_id,
                to=Stage.COMPLETED,
                expected_version=command.expected_version,
                reason=command.statement,
            ),
            signing=sign,
        )


def episode_signatures(uow: UnitOfWork, clock: Clock, episode_id: UUID) -> list[SignedRecord]:
    """Every signature on the episode, each checked against the episode as it is now."""
    with failures_recorded(uow, clock, AuditAction.READ, "signature", episode_id), uow:
        episode = uow.episodes.get(episode_id)
        if episode is None:
            raise NotFound("episode", episode_id)
        patient = uow.patients.get(episode.patient_id)
        if patient is None:
            raise NotFound("patient", episode.patient_id)
        current = episode.signed_record(patient)
        signed = [
            SignedRecord(s, s.status(current))
            for s in uow.signatures.for_resource("episode", episode.id)
        ]
        record(uow, clock, AuditAction.READ, "signature", episode_id, episode.clinic_id)
        uow.commit()
    return signed
