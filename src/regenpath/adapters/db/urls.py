"""A SQLAlchemy database URL as the other tools that read the same database need it: DuckDB's
PostgreSQL scanner and pg_dump/pg_restore (libpq), and the schema the application works in."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url

_SEARCH_PATH = re.compile(r"-c\s*search_path=([A-Za-z_][A-Za-z0-9_]*)")


def backend(database_url: str | URL) -> str:
    """``sqlite`` or ``postgresql`` (or whatever else the URL names)."""
    return make_url(database_url).get_backend_name()


def sqlite_path(database_url: str | URL) -> Path:
    """The file of a SQLite URL; an in-memory database has none."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database has no file")
    return Path(database)


def search_path(database_url: str | URL) -> str | None:
    """The schema the URL puts first (``options=-csearch_path=...``), None when it names
    none (PostgreSQL's default, ``public``)."""
    options = make_url(database_url).query.get("options", "")
    found = _SEARCH_PATH.search(options if isinstance(options, str) else " ".join(options))
    return found.group(1) if found else None


def libpq(database_url: str | URL, *, with_password: bool = True) -> str:
    """A PostgreSQL URL as a libpq connection string (``host=... dbname=...``)."""
    url = make_url(database_url)
    parts = {
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "user": url.username,
        "password": url.password if with_password else None,
    }
    return " ".join(f"{key}={value}" for key, value in parts.items() if value is not None)
