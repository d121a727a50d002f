"""Real processes for the tests that only real processes can answer: the `regenpath` command
and its server run as subprocesses against a real database file or a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.smtp import free_port

REGENPATH = str(Path(sys.executable).parent / "regenpath")


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """The process environment of a `regenpath` command on ``database_url``: only this
    test's REGENPATH_* settings, never the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGENPATH_")}
    env["REGENPATH_DATABASE_URL"] = database_url
    env.update({f"REGENPATH_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [REGENPATH, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"regenpath {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


@contextmanager
def served(
    env: Mapping[str, str], *extra: str, port: int | None = None, timeout: float = 60
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`regenpath serve` in a process of its own; yields its address and the process, and
    stops it (SIGTERM, then SIGKILL) at the end."""
    port = port or free_port()
    process = subprocess.Popen(
        [REGENPATH, "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, timeout)
        yield url, process
    finally:
        stop(process)


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"the server exited {process.returncode}: {error[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server at {url} did not start in {timeout} s")


def stop(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM to the process's group (uvicorn's workers too), SIGKILL if it lingers."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)
        except ProcessLookupError:
            pass
    if process.stderr:
        process.stderr.close()


def deleted_files_held(pid: int) -> list[str]:
    """The files a process still holds open that were deleted under it."""
    held = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.endswith(" (deleted)"):
            held.append(target)
    return held


def scalar(url: str, sql: str) -> int:
    """One number read from the database at ``url`` by a connection of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()
