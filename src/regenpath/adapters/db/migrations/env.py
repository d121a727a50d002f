"""Alembic environment: runs on the connection the caller hands over in ``attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from regenpath.adapters.db import (
    evaluation,  # noqa: F401 -- registers the evaluation tables
    fhir,  # noqa: F401 -- registers the FHIR resource and export tables
    followup,  # noqa: F401 -- registers the follow-up, portal and outbox tables
    lab_tables,  # noqa: F401 -- registers the product tables
    safety,  # noqa: F401 -- registers the safety tables
)
from regenpath.adapters.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through regenpath.adapters.db.migrate")
run_migrations(connection)
