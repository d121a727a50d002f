"""The access policy as data, the lock-out rule, and signatures bound to content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from regenpath.domain.access import (
    PERMISSIONS,
    STAGE_ROLES,
    Action,
    LockoutPolicy,
    PatientPrincipal,
    Resource,
    Role,
    StaffMember,
    is_permitted,
    locked_until,
)
from regenpath.domain.pathway import Stage
from regenpath.domain.signatures import Signature, SignatureMeaning, SignatureStatus, content_hash

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLINIC_A, CLINIC_B = UUID(int=1), UUID(int=2)
POLICY = LockoutPolicy()


def test_every_role_has_a_row_in_the_permission_table() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert set(STAGE_ROLES) == set(Stage)


def test_the_registry_analyst_sees_only_de_identified_aggregates() -> None:
    aggregates = {Resource.CLINIC, Resource.STAGE_COUNTS, Resource.OUTCOME_REPORT}
    aggregates |= {Resource.DEIDENTIFIED_EXPORT}  # Safe Harbor: no identifier in it
    for resource in Resource:
        allowed = is_permitted(Role.REGISTRY_ANALYST, Action.READ, resource)
        assert allowed == (resource in aggregates | {Resource.API_TOKEN})


def test_the_clinic_admin_runs_accounts_and_never_reads_patients() -> None:
    assert is_permitted(Role.CLINIC_ADMIN, Action.CREATE, Resource.USER)
    assert not is_permitted(Role.CLINIC_ADMIN, Action.READ, Resource.PATIENT)


def test_only_the_quality_officer_reads_the_audit_trail() -> None:
    readers = {r for r in Role if is_permitted(r, Action.READ, Resource.AUDIT_TRAIL)}
    assert readers == {Role.QUALITY_OFFICER}


def test_only_the_lab_releases_and_only_the_physician_injects_and_closes() -> None:
    assert STAGE_ROLES[Stage.RELEASED] == {Role.LAB_TECHNICIAN}
    assert STAGE_ROLES[Stage.ADMINISTERED] == {Role.PHYSICIAN}
    assert STAGE_ROLES[Stage.COMPLETED] == {Role.PHYSICIAN}


def test_a_role_in_one_clinic_reaches_only_that_clinic() -> None:
    member = StaffMember(UUID(int=9), "m", "M", {CLINIC_A: Role.NURSE, CLINIC_B: Role.CLINIC_ADMIN})
    assert member.clinics_permitting(Action.READ, Resource.PATIENT) == {CLINIC_A}
    assert member.clinics_permitting(Action.CREATE, Resource.USER) == {CLINIC_B}


def test_a_patient_reads_their_own_record_and_nothing_else() -> None:
    patient = PatientPrincipal(patient_id=UUID(int=5), clinic_id=CLINIC_A)
    assert patient.clinics_permitting(Action.READ, Resource.PATIENT) == {CLINIC_A}
    assert patient.clinics_permitting(Action.UPDATE, Resource.PATIENT) == frozenset()
    assert patient.clinics_permitting(Action.READ, Resource.AUDIT_TRAIL) == frozenset()


def test_five_wrong_passwords_within_a_minute_lock_the_account() -> None:
    failures = [T0 + timedelta(seconds=10 * i) for i in range(5)]
    assert locked_until(failures, POLICY) == failures[-1] + POLICY.duration
    assert locked_until(failures[:4], POLICY) is None


def test_five_wrong_passwords_over_more_than_a_minute_do_not() -> None:
    failures = [T0 + timedelta(seconds=16 * i) for i in range(5)]  # 64 s from first to last
    assert locked_until(failures, POLICY) is None


@given(st.lists(st.integers(min_value=0, max_value=600), max_size=20))
def test_a_lock_always_starts_at_a_failure_and_needs_enough_of_them(offsets: list[int]) -> None:
    failures = [T0 + timedelta(seconds=s) for s in offsets]
    until = locked_until(failures, POLICY)
    if len(failures) < POLICY.max_failures:
        assert until is None
    if until is not None:
        start = until - POLICY.duration
        assert start in failures
        window = [f for f in failures if start - POLICY.window <= f <= start]
        assert len(window) >= POLICY.max_failures


def test_a_content_hash_ignores_key_order_and_sees_every_value() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_a_signature_is_invalidated_when_its_content_changes() -> None:
    content = {"episode_id": "e", "patient": {"family_name": "Hale"}}
    signature = Signature(
        id=UUID(int=1),
        clinic_id=CLINIC_A,
        resource_type="episode",
        resource_id=UUID(int=2),
        signer_id=UUID(int=3),
        printed_name="Dr. Jordan Ellery",
        meaning=SignatureMeaning.RESPONSIBILITY,
        signed_at=T0,
        content_hash=content_hash(content),
    )
    assert signature.status(content) is SignatureStatus.VALID
    changed = content | {"patient": {"family_name": "Hale-Morrow"}}
    assert signature.status(changed) is SignatureStatus.INVALIDATED
