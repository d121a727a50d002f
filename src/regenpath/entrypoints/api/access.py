"""The permission each API route declares, as ``Annotated`` Unit-of-Work types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from regenpath.domain.access import Action, Resource
from regenpath.entrypoints.deps import ApiAccess
from regenpath.services.ports import UnitOfWork


def _uow(action: Action, resource: Resource) -> object:
    return Depends(ApiAccess(action, resource))


ReadClinics = Annotated[UnitOfWork, _uow(Action.READ, Resource.CLINIC)]
ReadPatients = Annotated[UnitOfWork, _uow(Action.READ, Resource.PATIENT)]
CreatePatients = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.PATIENT)]
UpdatePatients = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.PATIENT)]
ReadEpisodes = Annotated[UnitOfWork, _uow(Action.READ, Resource.EPISODE)]
CreateEpisodes = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.EPISODE)]
MoveEpisodes = Annotated[UnitOfWork, _uow(Action.TRANSITION, Resource.EPISODE)]
CheckAtBedside = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.BEDSIDE_VERIFICATION)]
ReadStageCounts = Annotated[UnitOfWork, _uow(Action.READ, Resource.STAGE_COUNTS)]
ReadOutcomeReports = Annotated[UnitOfWork, _uow(Action.READ, Resource.OUTCOME_REPORT)]
ExportDeidentified = Annotated[UnitOfWork, _uow(Action.READ, Resource.DEIDENTIFIED_EXPORT)]
ReadAuditTrail = Annotated[UnitOfWork, _uow(Action.READ, Resource.AUDIT_TRAIL)]
ReadUsers = Annotated[UnitOfWork, _uow(Action.READ, Resource.USER)]
ReadOwnTokens = Annotated[UnitOfWork, _uow(Action.READ, Resource.API_TOKEN)]
CreateOwnTokens = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.API_TOKEN)]
RevokeOwnTokens = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.API_TOKEN)]
ReadProducts = Annotated[UnitOfWork, _uow(Action.READ, Resource.PRODUCT)]
CreateProducts = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.PRODUCT)]
UpdateProducts = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.PRODUCT)]
RecordHarvests = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.HARVEST)]
RecordInjections = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.INJECTION)]
RecordCustody = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.CUSTODY_EVENT)]
ReadDonors = Annotated[UnitOfWork, _uow(Action.READ, Resource.DONOR)]
CreateDonors = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.DONOR)]
UpdateDonors = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.DONOR)]
ReadLookback = Annotated[UnitOfWork, _uow(Action.READ, Resource.LOOKBACK)]
StartRecalls = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.RECALL)]
ReadTasks = Annotated[UnitOfWork, _uow(Action.READ, Resource.TASK)]
ReadAssessments = Annotated[UnitOfWork, _uow(Action.READ, Resource.ASSESSMENT)]
CreateAssessments = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.ASSESSMENT)]
ReadPlans = Annotated[UnitOfWork, _uow(Action.READ, Resource.PLAN)]
CreatePlans = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.PLAN)]
ReadConsents = Annotated[UnitOfWork, _uow(Action.READ, Resource.CONSENT)]
SignConsents = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.CONSENT)]
WithdrawConsents = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.CONSENT)]
ReadAdverseEvents = Annotated[UnitOfWork, _uow(Action.READ, Resource.ADVERSE_EVENT)]
RecordAdverseEvents = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.ADVERSE_EVENT)]
ReadPatientReports = Annotated[UnitOfWork, _uow(Action.READ, Resource.PATIENT_REPORT)]
TriagePatientReports = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.PATIENT_REPORT)]
ReadReports = Annotated[UnitOfWork, _uow(Action.READ, Resource.REGULATORY_REPORT)]
SubmitReports = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.REGULATORY_REPORT)]
RecordDeviations = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.DEVIATION)]
ReadFollowUp = Annotated[UnitOfWork, _uow(Action.READ, Resource.FOLLOW_UP)]
AnswerFollowUp = Annotated[UnitOfWork, _uow(Action.UPDATE, Resource.FOLLOW_UP)]
SendPortalLinks = Annotated[UnitOfWork, _uow(Action.CREATE, Resource.PORTAL_LINK)]
