"""Export a clinic, import it into an empty database, export again: the same NDJSON (issue 6),
on SQLite and on PostgreSQL. Every exported line is also a strict FHIR 4.0.1 resource for the
fhirclient models (the conformance oracle, fhir.md section 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from fhirclient.models.fhirelementfactory import FHIRElementFactory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from regenpath.adapters.db import migrate
from regenpath.adapters.fhir.server import IMPORT_ORDER, TYPES
from regenpath.bootstrap import Application, bootstrap
from regenpath.config import Settings
from regenpath.services.demo import seed_demo
from regenpath.services.ports import AccessScope
from tests.integration.conftest import FAST_HASHER, WORKER


@pytest.fixture
def empty_application(database_url: str, tmp_path) -> Iterator[Application]:  # type: ignore[no-untyped-def]
    """A second, empty database of the same kind as ``application``'s."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        target = f"sqlite:///{tmp_path / 'empty.db'}"
        admin = None
    else:
        schema = f"regenpath_test_{WORKER}_empty"
        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        target = url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    application = bootstrap(Settings(database_url=target), hasher=FAST_HASHER)
    migrate.upgrade(application.engine)
    yield application
    application.dispose()
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(
                text(f'DROP SCHEMA IF EXISTS "regenpath_test_{WORKER}_empty" CASCADE')
            )
        admin.dispose()


def export(application: Application, scope: AccessScope) -> dict[str, list[str]]:
    return application.fhir.export_ndjson(application.unit_of_work(scope), TYPES)


def test_a_clinic_exported_imported_into_an_empty_database_and_exported_again_is_identical(
    application: Application, empty_application: Application
) -> None:
    seed_demo(
        application.unit_of_work(AccessScope(actor="test")),
        seed=11,
        patient_count=14,
        as_of=date(2026, 11, 1),
        lab_settings=application.lab,
        ruleset=application.ruleset,
        ae_catalogue=application.ae_catalogue,
        hasher=FAST_HASHER,
        instruments=application.instruments,
    )
    with application.unit_of_work() as uow:
        clinic = uow.clinics.all()[0].id
    first = export(application, AccessScope(clinic_ids=frozenset({clinic}), actor="test"))
    for resource_type in ("Patient", "Condition", "Procedure", "Observation", "Consent"):
        assert first[resource_type], f"the demo clinic has no {resource_type}"
    for resource_type, lines in first.items():
        for line in lines:
            resource = json.loads(line)
            FHIRElementFactory.instantiate(resource_type, resource)  # strict 4.0.1, or raises
            assert resource["resourceType"] == resource_type

    def import_all() -> list[tuple[str, int, int, int]]:
        done = []
        for resource_type in dict.fromkeys(IMPORT_ORDER):
            result = empty_application.fhir.import_resources(
                empty_application.unit_of_work(AccessScope(actor="test import")),
                enumerate(first[resource_type], start=1),
                None,
                f"{resource_type}.ndjson",
            )
            done.append(
                (
                    resource_type,
                    sum(result.added.values()),
                    sum(result.changed.values()),
                    sum(result.unchanged.values()),
                )
            )
        return done

    import_all()
    again = export(empty_application, AccessScope(actor="test"))
    assert {t: sorted(v) for t, v in again.items()} == {t: sorted(v) for t, v in first.items()}
    # Importing the same files a second time changes nothing.
    assert all(added == changed == 0 for _, added, changed, _ in import_all())
    assert export(empty_application, AccessScope(actor="test")) == again
