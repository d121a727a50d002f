"""Which processes may run together on one database, enforced where they start.

SQLite serves one server process, plus one worker (a loop or cron's ``--once``): the layout the
README supports. A second server or worker on the same file is refused at start, with one
line, instead of being left to find out under load. PostgreSQL takes any number of each
(jobs are claimed with FOR UPDATE SKIP LOCKED), so nothing is held there.

The guard is an advisory ``flock`` on a lock file beside the database, never on the database
file itself: SQLite's own POSIX locks on that file must not be touched by anything else in
the process (SQLite's own "How To Corrupt An SQLite Database File", section 2.2).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from regenpath.adapters.db import urls


class AlreadyRunning(Exception):
    """Another process of the same kind holds this SQLite database."""


@contextmanager
def sole_on_sqlite(database_url: str, kind: str) -> Iterator[None]:
    """Hold, for as long as the block runs, the right to be the one ``kind`` process (server
    or worker) on a SQLite database; nothing on PostgreSQL."""
    if urls.backend(database_url) != "sqlite":
        yield
        return
    try:
        database = urls.sqlite_path(database_url)
    except ValueError:
        yield  # an in-memory database lives and dies with this one process
        return
    lock = database.with_name(f"{database.name}.{kind}.lock")
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                f"another regenpath {kind} is running on {database}: SQLite serves one {kind}"
                " process (use PostgreSQL for more; see the README's deployment section)"
            ) from None
        yield
    finally:
        os.close(descriptor)  # closing releases the flock
