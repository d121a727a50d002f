"""From a signed-in principal and what they ask to do, the scope every repository obeys.

The entrypoints declare one (action, resource) per route; this turns it into the clinics the
principal may touch for it. An empty answer is a denial, recorded in the audit trail; records
of the other clinics are simply outside the scope, so they answer "not found".
"""

from __future__ import annotations

from regenpath.domain.access import Action, PatientPrincipal, Principal, Resource
from regenpath.domain.audit import AuditAction, AuditOutcome
from regenpath.services.audit import record
from regenpath.services.errors import PermissionDenied
from regenpath.services.ports import AccessScope, Clock, UnitOfWork


def actor_of(principal: Principal) -> str:
    if isinstance(principal, PatientPrincipal):
        return f"patient:{principal.patient_id}"
    return principal.username


def scope_for(principal: Principal, action: Action, resource: Resource) -> AccessScope | None:
    """The scope for this request, or None when the principal's roles do not allow it."""
    clinics = principal.clinics_permitting(action, resource)
    if not clinics:
        return None
    if isinstance(principal, PatientPrincipal):
        return AccessScope(
            clinic_ids=clinics,
            actor=actor_of(principal),
            roles={},
            patient_id=principal.patient_id,
        )
    return AccessScope(
        clinic_ids=clinics,
        actor=principal.username,
        roles={clinic: principal.memberships[clinic] for clinic in clinics},
        user_id=principal.user_id,
    )


def authorize(
    audit_uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    action: Action,
    resource: Resource,
    resource_id: str | None = None,
) -> AccessScope:
    """The request's scope; a denial is audited (in ``audit_uow``) and raises PermissionDenied."""
    scope = scope_for(principal, action, resource)
    if scope is not None:
        return scope
    roles = (
        "patient"
        if isinstance(principal, PatientPrincipal)
        else ", ".join(sorted({str(role) for role in principal.memberships.values()}))
    )
    message = f"a {roles} may not {action} {resource.value.replace('_', ' ')} records"
    record_denial(audit_uow, clock, action, resource, message, resource_id)
    raise PermissionDenied(message)


def record_denial(
    audit_uow: UnitOfWork,
    clock: Clock,
    action: Action,
    resource: Resource,
    why: str,
    resource_id: str | None = None,
) -> None:
    """A refused request, in a transaction of its own (the refused work never started)."""
    with audit_uow:
        record(
            audit_uow,
            clock,
            AuditAction(action.value),
            resource.value,
            resource_id,
            None,
            outcome=AuditOutcome.DENIED,
            detail=why,
        )
        audit_uow.commit()
