"""Request dependencies shared by the API and the web pages.

``get_scope`` is the one place that decides which clinics a request may see; the security
layer replaces its body with the current user's clinics, and every repository follows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from regenpath.bootstrap import Application
from regenpath.services.ports import AccessScope, Clock, IdFactory, UnitOfWork


def get_application(request: Request) -> Application:
    application: Application = request.app.state.regenpath
    return application


AppDep = Annotated[Application, Depends(get_application)]


def get_scope() -> AccessScope:
    # Until sign-in exists every request is "anonymous" in the audit trail and sees every clinic.
    return AccessScope(actor="anonymous")


ScopeDep = Annotated[AccessScope, Depends(get_scope)]


def get_uow(application: AppDep, scope: ScopeDep) -> UnitOfWork:
    return application.unit_of_work(scope)


def get_clock(application: AppDep) -> Clock:
    return application.clock


def get_id_factory(application: AppDep) -> IdFactory:
    return application.new_id


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
ClockDep = Annotated[Clock, Depends(get_clock)]
IdsDep = Annotated[IdFactory, Depends(get_id_factory)]
