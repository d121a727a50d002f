"""A bounded fuzz of the whole API from its OpenAPI schema (schemathesis): no answer is a
5xx, and every answer matches the schema the API publishes, errors included."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from regenpath.bootstrap import Application
from regenpath.domain.access import Role
from regenpath.entrypoints.app import create_app

EXAMPLES_PER_OPERATION = 15  # bounded: the whole fuzz stays within seconds


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.QUALITY_OFFICER])
def test_the_api_answers_every_generated_request_within_its_schema(
    application: Application, client: TestClient, patient, episode, database_url: str, role: Role
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the fuzz runs once, on SQLite; the access rules are tested on both")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(application))
    headers = client.as_role(role)  # type: ignore[attr-defined]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        fuzz()
