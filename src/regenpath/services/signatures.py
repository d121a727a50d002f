"""Electronic signatures: re-authenticate, bind to the content's hash, show what still holds.

The first signed act is closing an episode; eligibility overrides, consent and QC release
sign the same way (their issues). See domain/signatures.py for the Part 11 sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
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


def close_episode(
    uow: UnitOfWork,
    clock: Clock,
    new_id: IdFactory,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    signer: StaffMember,
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
        identity.reauthenticate(uow, clock, hasher, policy, signer, command.password)

        def sign(episode: Episode) -> None:
            patient = uow.patients.get(episode.patient_id)
            if patient is None:
                raise NotFound("patient", episode.patient_id)
            signature = Signature(
                id=new_id(),
                clinic_id=episode.clinic_id,
                resource_type="episode",
                resource_id=episode.id,
                signer_id=signer.user_id,
                printed_name=signer.display_name,
                meaning=command.meaning,
                signed_at=clock.now(),
                content_hash=content_hash(episode.signed_record(patient)),
                statement=command.statement,
            )
            uow.signatures.add(signature)
            record(
                uow,
                clock,
                AuditAction.SIGN,
                "episode",
                episode.id,
                episode.clinic_id,
                reason=command.statement,
                detail=f"{command.meaning} by {signer.display_name}; {signature.content_hash}",
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
            timedelta(0),
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
