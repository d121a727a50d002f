"""The ``regenpath`` command: serve, worker, db upgrade, demo, audit verify, clinic/user/token
create."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import duckdb
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from typer.exceptions import TyperException

from regenpath.adapters.analytics import AnalyticsError, OutcomeData, write_snapshot
from regenpath.adapters.db import backup as backups
from regenpath.adapters.db import migrate
from regenpath.adapters.db.tables import AuditEventRow, PatientRow
from regenpath.adapters.fhir import search
from regenpath.adapters.fhir.server import IMPORT_ORDER
from regenpath.adapters.fhir.validation import FhirError
from regenpath.adapters.security import Argon2PasswordHasher
from regenpath.bootstrap import Application, bootstrap
from regenpath.config import get_settings
from regenpath.domain.access import Role
from regenpath.domain.errors import DomainError
from regenpath.domain.patients import Clinic
from regenpath.entrypoints.outcome_formats import report_csv, report_html, report_json
from regenpath.entrypoints.processes import AlreadyRunning, sole_on_sqlite
from regenpath.services import audit, clinics, identity, outcomes, portal
from regenpath.services.demo import demo_password, demo_username, seed_demo
from regenpath.services.demo_registry import RegistryClinic, generate_registry
from regenpath.services.errors import ServiceError
from regenpath.services.identity import MAX_TOKEN_DAYS
from regenpath.services.outcomes import outcome_report
from regenpath.services.ports import AccessScope

# The demo accounts' passwords are printed for everyone: a costly hash would protect nothing,
# yet the demo re-verifies them for every signed release and override (hundreds of times).
# Argon2 reads its cost from each stored hash, so these accounts sign in like any other.
DEMO_HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=8 * 1024)

app = typer.Typer(
    help="regenpath: the orthobiologic therapy care pathway of a clinic.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
clinic_app = typer.Typer(help="Clinics.", no_args_is_help=True)
app.add_typer(clinic_app, name="clinic")
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
# The operator at the server's console: no clinic limit, recorded as such in the audit trail.
_OPERATOR = AccessScope(actor="regenpath cli")
console = Console()
errors = Console(stderr=True)


class CommandFailed(Exception):
    """A command could not do its work; the message is the one line the user sees."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from config).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to bind.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes (PostgreSQL only; SQLite serves from one).",
        ),
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serve the web pages and the API."""
    import uvicorn

    settings = get_settings()
    sqlite = make_url(settings.database_url).get_backend_name() == "sqlite"
    if workers > 1 and sqlite:
        raise CommandFailed(
            "SQLite serves from one process: run `regenpath serve` without --workers, or move"
            " to PostgreSQL for several (see the README's deployment section)"
        )
    if workers > 1 and reload:
        raise CommandFailed("--reload runs one process: leave out --workers")
    with sole_on_sqlite(settings.database_url, "server"):
        uvicorn.run(
            "regenpath.entrypoints.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            reload=reload,
            # Several processes, each with its own pool; nothing that another needs is kept
            # in a process's memory (sessions, jobs and the audit head live in PostgreSQL).
            workers=workers if workers > 1 else None,
        )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="One run, then exit (for cron).")] = False,
    interval: Annotated[
        float | None, typer.Option(min=1, help="Seconds between runs (default from config).")
    ] = None,
) -> None:
    """Send due reminders and emails, open call and letter tasks, apply lost to follow-up."""
    from regenpath.entrypoints.worker import WorkerRun, run_forever, run_once

    application = bootstrap()
    guard = sole_on_sqlite(application.settings.database_url, "worker")

    def show(run: WorkerRun) -> None:
        rules, sent = run.rules, run.delivery
        console.print(
            f"reminders: {rules.emails} emails queued, {rules.calls} call and "
            f"{rules.letters} letter tasks; {rules.to_follow_up} into follow-up, "
            f"{rules.lost} lost to follow-up; outbox: {sent.sent} sent, {sent.retried} to "
            f"retry, {sent.failed} failed, {sent.doubtful} counted sent after a crash",
            highlight=False,
        )

    try:
        with guard:
            if once:
                show(run_once(application))
                return
            stop = threading.Event()
            try:
                run_forever(
                    application,
                    interval or application.settings.worker_interval_seconds,
                    stop,
                    show,
                )
            except KeyboardInterrupt:
                stop.set()
    finally:
        application.dispose()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the schema migrations (Alembic) to the configured database."""
    application = bootstrap()
    try:
        migrate.upgrade(application.engine, revision)
        console.print(f"Database at revision {migrate.current_revision(application.engine)}.")
    finally:
        application.dispose()


@audit_app.command("verify")
def audit_verify(
    quick: Annotated[
        bool,
        typer.Option(help="SQLite: quick_check instead of the full integrity check (large files)."),
    ] = False,
) -> None:
    """Prove the audit trail: every hash recomputed, gaps and added rows named, the chain head
    against the last entry, and the database's own integrity check (SQLite) or append-only
    trigger (PostgreSQL). Exits 1 with one line per problem."""
    application = bootstrap()
    verifier = AccessScope(actor="regenpath audit verify")
    try:
        problems = audit.check_storage(application.unit_of_work(verifier), quick=quick)
        if not problems:
            with _progress("Audit entries") as progress:
                task = progress.add_task("verify", total=_audit_length(application))
                report = audit.verify_chain(
                    application.unit_of_work(verifier), on_entry=lambda: progress.advance(task)
                )
            problems = report.problems
    finally:
        application.dispose()
    if problems:
        for problem in problems[:-1]:
            errors.print(f"error: audit trail: {problem}", highlight=False, soft_wrap=True)
        raise CommandFailed(f"audit trail: {problems[-1]}")
    console.print(
        f"Audit chain intact: {report.entries} entries verified, head at {report.head_sequence}."
    )


@app.command()
def backup(
    folder: Annotated[
        Path, typer.Argument(help="Where backups are kept (created if missing).")
    ] = Path("backups"),
    keep: Annotated[
        int | None,
        typer.Option(min=1, help="Keep only the newest N backups in the folder, remove the rest."),
    ] = None,
) -> None:
    """A consistent, timestamped backup taken while the server runs (SQLite: the online
    backup API; PostgreSQL: pg_dump, custom format), with a manifest holding its SHA-256,
    schema revision, row counts and audit head."""
    settings = get_settings()
    target = _output_folder(folder)
    try:
        with console.status("Backing up"):
            written, manifest = backups.take_backup(
                settings.database_url, target, datetime.now(UTC)
            )
        removed = backups.prune(target, keep) if keep is not None else []
    except backups.BackupError as error:
        raise CommandFailed(f"backup: {error}") from None
    console.print(
        f"Backup {written} ({manifest.size:,} bytes, sha256 {manifest.sha256[:16]}...):"
        f" schema {manifest.migration_head}, {sum(manifest.counts.values()):,} rows,"
        f" audit head {manifest.audit_head['sequence']}",
        highlight=False,
        soft_wrap=True,
    )
    for path in removed:
        console.print(f"removed {path} (--keep {keep})", highlight=False, soft_wrap=True)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup file written by `regenpath backup`.")],
    database: Annotated[
        str | None,
        typer.Option(help="The empty database to restore into (default: the configured one)."),
    ] = None,
) -> None:
    """Restore a backup into an empty database, bring its schema up to this version, then
    compare its rows with the manifest and verify the audit trail."""
    url = database or get_settings().database_url
    try:
        with console.status("Restoring"):
            manifest = backups.restore_backup(file, url)
    except backups.BackupError as error:
        raise CommandFailed(f"restore: {error}") from None
    application = bootstrap(get_settings().model_copy(update={"database_url": url}))
    try:
        migrate.upgrade(application.engine)
        with application.engine.connect() as connection:
            counts = backups.table_counts(connection)
        differ = [
            f"{table}: {rows} in the backup, {counts.get(table)} restored"
            for table, rows in manifest.counts.items()
            if counts.get(table) != rows
        ]
        if differ:
            raise CommandFailed(f"restore: rows differ from the manifest: {'; '.join(differ)}")
        verifier = AccessScope(actor="regenpath restore")
        problems = audit.check_storage(application.unit_of_work(verifier))
        report = None if problems else audit.verify_chain(application.unit_of_work(verifier))
        if report is not None:
            problems = report.problems
    finally:
        application.dispose()
    if problems or report is None:
        raise CommandFailed(f"restore: restored, but the audit trail fails: {problems[0]}")
    console.print(
        f"Restored {file.name} ({sum(manifest.counts.values()):,} rows, schema"
        f" {manifest.migration_head} -> {migrate.head_revision()}); audit chain intact:"
        f" {report.entries} entries verified.",
        highlight=False,
        soft_wrap=True,
    )


def _output_folder(folder: Path) -> Path:
    """A folder to write into, created if missing; a path that is a file, cannot be created
    or cannot be written is one line for the user, before any work starts."""
    if folder.exists() and not folder.is_dir():
        raise CommandFailed(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise CommandFailed(f"cannot write to {folder}: {error.strerror or error}") from None
    return folder


def _audit_length(application: Application) -> int:
    with application.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same demo.")] = 7,
    patients_: Annotated[
        int, typer.Option("--patients", min=1, max=100_000, help="How many demo patients.")
    ] = 200,
    as_of: Annotated[
        str | None, typer.Option(help="Date the demo ends on (YYYY-MM-DD); default today.")
    ] = None,
    reset: Annotated[
        bool, typer.Option(help="Delete the SQLite database file first (SQLite only).")
    ] = False,
    episodes: Annotated[
        int,
        typer.Option(
            min=0,
            max=10_000_000,
            help="Also write a synthetic registry of this many episodes (for the outcome "
            "report at scale) as a Parquet snapshot in --registry.",
        ),
    ] = 0,
    registry: Annotated[Path, typer.Option(help="Where --episodes writes the registry.")] = Path(
        "registry"
    ),
) -> None:
    """Create the database and fill it with a synthetic demo clinic."""
    settings = get_settings()
    end = _parse_date(as_of, "--as-of") if as_of else datetime.now(UTC).date()
    if reset:
        _delete_sqlite_file(settings.database_url)
    application = bootstrap(settings)
    try:
        migrate.upgrade(application.engine)
        if _holds_patients(application):
            raise CommandFailed("the database already holds patients; use --reset for a new demo")
        with _progress("Synthetic patients") as progress:
            task = progress.add_task("demo", total=patients_)
            summary = seed_demo(
                application.unit_of_work(AccessScope(actor="regenpath demo")),
                seed=seed,
                patient_count=patients_,
                as_of=end,
                lab_settings=application.lab,
                ruleset=application.ruleset,
                ae_catalogue=application.ae_catalogue,
                hasher=DEMO_HASHER,
                instruments=application.instruments,
                on_patient=lambda: progress.advance(task),
            )
        portal_demo = portal.demo_portal_link(
            application.unit_of_work(AccessScope(actor="regenpath demo")),
            application.clock,
            application.new_id,
            application.follow_up,
        )
        # A token for the first clinic's physician, so the FHIR facade can be tried at once.
        fhir_token = identity.create_token(
            application.unit_of_work(AccessScope(actor="regenpath demo")),
            application.clock,
            application.new_id,
            application.digest,
            username=demo_username(summary.clinics[0], Role.PHYSICIAN),
            name="FHIR demo",
            days=30,
        ).secret
        fhir_base = f"{settings.public_url.rstrip('/')}/fhir/R4"
    finally:
        application.dispose()
    accounts = Table(
        title="Demo sign-ins (synthetic accounts; never use these passwords elsewhere)"
    )
    for column in ("User name", "Password", "Role", "Clinic"):
        accounts.add_column(column, overflow="fold")
    names = {c.id: c.name for c in summary.clinics}
    for user in summary.users:
        for clinic_id, role in user.memberships.items():
            accounts.add_row(
                user.username, demo_password(user.username), role.label, names[clinic_id]
            )
    console.print(accounts)
    table = Table(title=f"Demo: {summary.patients} patients in {len(summary.clinics)} clinics")
    table.add_column("Stage")
    table.add_column("Episodes", justify="right")
    for stage, count in sorted(
        summary.by_stage.items(), key=lambda kv: list(kv[0].__class__).index(kv[0])
    ):
        table.add_row(stage.label, str(count))
    console.print(table)
    console.print(
        f"{summary.questionnaires} follow-up questionnaires answered; run "
        "`regenpath worker --once` to send the reminders now due. "
        f"{summary.patient_reports} problems reported in the portal await triage."
    )
    if episodes:
        _write_registry(episodes, registry, summary.clinics, end, seed)
    if portal_demo is not None:
        patient, visit, link = portal_demo
        console.print(
            f"Patient portal as {patient.given_name} {patient.family_name}, whose"
            f" {visit.label} check-in is due (the link works once, on a phone too):"
        )
        console.print(link, soft_wrap=True, markup=False)
    console.print(
        f"FHIR R4 at {fhir_base} (read the CapabilityStatement at /metadata). As"
        f" {summary.clinics[0].name}'s physician, for 30 days:",
        soft_wrap=True,
    )
    console.print(
        f"curl -H 'Authorization: Bearer {fhir_token}'"
        f" '{fhir_base}/Observation?code=http://loinc.org|72514-3&_sort=-date&_count=5'",
        soft_wrap=True,
        markup=False,
    )
    console.print(
        "Keep it safe: `regenpath backup backups --keep 30` takes a consistent backup while the"
        " server runs, `regenpath restore FILE --database URL` restores it into an empty"
        " database, `regenpath audit verify` proves the audit trail.",
        soft_wrap=True,
        markup=False,
    )


export_app = typer.Typer(help="Exports for analysis.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@app.command()
def report(
    output_format: Annotated[
        str, typer.Option("--format", help="html, json or csv.", case_sensitive=False)
    ] = "html",
    output: Annotated[
        Path | None, typer.Option(help="Write here instead of to the terminal.")
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today.")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="A stratum and its value, e.g. cell_source=allogeneic (repeatable)."),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(help="Two values of a stratum, e.g. smoking:never,current."),
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(help="Read a Parquet snapshot (regenpath export parquet) instead."),
    ] = None,
    band: Annotated[str, typer.Option(help="log-log (default), log or plain.")] = "log-log",
) -> None:
    """The registry's outcome report: responders three ways, durability, completeness, flow."""
    chosen_format = output_format.lower()
    if chosen_format not in ("html", "json", "csv"):
        raise CommandFailed(f"--format: {output_format!r} is not html, json or csv")
    if band not in ("log-log", "log", "plain"):
        raise CommandFailed(f"--band: {band!r} is not log-log, log or plain")
    filters = dict(_pair(item, "=", "--where") for item in where or [])
    compared = None
    if compare is not None:
        stratum, values = _pair(compare, ":", "--compare")
        first, _comma, second = values.partition(",")
        if not first or not second:
            raise CommandFailed("--compare: give two values, e.g. smoking:never,current")
        compared = (stratum, first, second)
    day = _parse_date(as_of, "--as-of") if as_of else datetime.now(UTC).date()
    with console.status("Reading the registry"):
        source = _outcome_source(snapshot)
        try:
            found = outcome_report(source, day, filters, compared, band)  # type: ignore[arg-type]
        except AnalyticsError as error:
            raise CommandFailed(str(error)) from None
        finally:
            source.close()
    if chosen_format == "json":
        text = json.dumps(report_json(found), indent=2)
    elif chosen_format == "csv":
        text = report_csv(found)
    else:
        text = report_html(found)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Report written to {output}")


@export_app.command("parquet")
def export_parquet(
    folder: Annotated[Path, typer.Argument(help="Where to write flow, cohort and visits.")],
) -> None:
    """Snapshot the registry's analytic relations as Parquet files, for `regenpath report
    --snapshot` and for DuckDB, pandas or R."""
    _output_folder(folder)
    with console.status("Exporting"):
        source = _outcome_source(None)
        try:
            written = source.export_parquet(folder)
        finally:
            source.close()
    for relation, rows in written.items():
        console.print(f"{folder / (relation + '.parquet')}: {rows} rows")


@export_app.command("deidentified")
def export_deidentified(
    folder: Annotated[Path, typer.Argument(help="Where to write patients, visits, events.")],
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """The registry for researchers, de-identified by HIPAA Safe Harbor: a random study
    number per export, no identifier, every date as days from the index injection, ages of
    90 and over grouped."""
    _output_folder(folder)
    application = bootstrap()
    with console.status("Exporting"):
        source = _outcome_source(None)
        try:
            written = outcomes.export_deidentified(
                application.unit_of_work(AccessScope(actor="regenpath export deidentified")),
                application.clock,
                source,
                folder,
                file_format.lower(),
            )
        except AnalyticsError as error:
            raise CommandFailed(str(error)) from None
        finally:
            source.close()
            application.dispose()
    for name, rows in written.items():
        console.print(f"{folder / (name + '.' + file_format.lower())}: {rows} rows")


@export_app.command("fhir")
def export_fhir(
    folder: Annotated[Path, typer.Argument(help="Where to write one NDJSON file per type.")],
    clinic: Annotated[
        str | None, typer.Option(help="Only this clinic (its id): a FHIR Group export.")
    ] = None,
    types: Annotated[
        str | None, typer.Option("--type", help="Resource types, comma-separated (_type).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only what changed after this instant (_since).")
    ] = None,
) -> None:
    """FHIR R4 Bulk Data export: NDJSON per resource type, identified records (handle as
    patient data)."""
    _output_folder(folder)
    application = bootstrap()
    try:
        server = application.fhir
        try:
            chosen = server.export_types("system", types)
            after = search.date_range(since)[0] if since else None
        except (FhirError, ValueError) as error:
            raise CommandFailed(f"{error}") from None
        scope = AccessScope(actor="regenpath export fhir")
        if clinic is not None:
            chosen_clinic = _fhir_clinic(application, clinic)
            scope = AccessScope(clinic_ids=frozenset({chosen_clinic}), actor=scope.actor)
        with console.status("Exporting"):
            files = server.export_ndjson(application.unit_of_work(scope), chosen, after)
    finally:
        application.dispose()
    folder.mkdir(parents=True, exist_ok=True)
    for resource_type, lines in files.items():
        target = folder / f"{resource_type}.ndjson"
        target.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        console.print(f"{target}: {len(lines)} resources", soft_wrap=True)


import_app = typer.Typer(help="Bring records in.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("fhir")
def import_fhir(
    files: Annotated[list[Path], typer.Argument(help="NDJSON files of FHIR R4 resources.")],
    clinic: Annotated[
        str | None,
        typer.Option(help="The clinic the records belong to (its id); needed with several."),
    ] = None,
) -> None:
    """FHIR R4 NDJSON import: each file is validated, mapped and written in one transaction
    (an error anywhere in a file leaves nothing of it); importing a file again changes
    nothing. Files are taken clinic first, then staff, patients and the rest."""
    for path in files:
        if not path.is_file():
            raise CommandFailed(f"{path}: no such file")
    ordered = sorted(files, key=_import_rank)
    application = bootstrap()
    try:
        server = application.fhir
        owner = _fhir_clinic(application, clinic) if clinic else None
        sizes = {path: _count_lines(path) for path in ordered}
        with _progress("FHIR import") as progress:
            task = progress.add_task("import", total=sum(sizes.values()))
            for path in ordered:
                started = time.perf_counter()
                with path.open(encoding="utf-8") as handle:
                    try:
                        result = server.import_resources(
                            application.unit_of_work(AccessScope(actor="regenpath import fhir")),
                            enumerate(handle, start=1),
                            owner,
                            path.name,
                            progress=lambda n: progress.advance(task, n),
                            # Validation is the costly part: big files use every core.
                            workers=(os.cpu_count() or 1) if sizes[path] >= 20_000 else 0,
                        )
                    except FhirError as error:
                        raise CommandFailed(
                            f"{path}: {error}; nothing of it was imported"
                        ) from None
                seconds = time.perf_counter() - started
                progress.console.print(
                    f"{path.name}: {sum(result.added.values())} added,"
                    f" {sum(result.changed.values())} changed,"
                    f" {sum(result.unchanged.values())} unchanged"
                    f" ({result.total / max(seconds, 1e-9):,.0f} resources/s)",
                    soft_wrap=True,
                )
    finally:
        application.dispose()


def _import_rank(path: Path) -> tuple[int, str]:
    """Organization.ndjson before Practitioner.ndjson before Patient.ndjson before the rest."""
    stem = path.stem.split(".")[0]
    order = list(dict.fromkeys(IMPORT_ORDER))
    return (order.index(stem) if stem in order else len(order), path.name)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _fhir_clinic(application: Application, text: str) -> UUID:
    """A clinic by id (it may come with the Organization file being imported) or by name."""
    try:
        return UUID(text)
    except ValueError:
        return _clinic_id(clinics.list_clinics(application.unit_of_work(_OPERATOR)), text)


PARTNER_CLINICS = ("Lakeside Regenerative", "Northgate Orthopaedics", "Summit Sports Medicine")


def _write_registry(
    episodes: int, folder: Path, demo_clinics: list[Clinic], end: date, seed: int
) -> None:
    """The synthetic registry: the demo's clinics (their staff see their own share) and three
    partner clinics, vectorised, a progress bar per chunk."""
    clinics = [RegistryClinic(c.id.hex, c.name) for c in demo_clinics] + [
        RegistryClinic(UUID(int=index + 1).hex, name) for index, name in enumerate(PARTNER_CLINICS)
    ]
    started = time.perf_counter()
    with _progress("Synthetic registry") as progress:
        task = progress.add_task("registry", total=episodes)
        written = write_snapshot(
            generate_registry(
                episodes, clinics, end, seed, on_chunk=lambda n: progress.advance(task, n)
            ),
            folder,
        )
    seconds = time.perf_counter() - started
    console.print(
        f"Registry of {written['flow']:,} episodes ({written['cohort']:,} treated,"
        f" {written['visits']:,} time points) in {seconds:.1f} s: {folder}/. Report on it with"
        f" `regenpath report --snapshot {folder}`, or serve it with"
        f" REGENPATH_REGISTRY_SNAPSHOT={folder}."
    )


def _outcome_source(snapshot: Path | None) -> OutcomeData:
    try:
        if snapshot is not None:
            return OutcomeData.snapshot(snapshot)
        return OutcomeData.live(get_settings().database_url)
    except (AnalyticsError, duckdb.Error) as error:
        raise CommandFailed(str(error).splitlines()[0]) from None


def _pair(text: str, separator: str, option: str) -> tuple[str, str]:
    name, found, value = text.partition(separator)
    if not found or not name or not value:
        raise CommandFailed(f"{option}: {text!r} is not name{separator}value")
    return name.strip(), value.strip()


@clinic_app.command("create")
def clinic_create(
    name: Annotated[str, typer.Argument(help="The clinic's name.")],
    time_zone: Annotated[str, typer.Option(help="IANA time zone of the clinic.")] = "UTC",
    phone: Annotated[
        str | None, typer.Option(help="The number the portal tells patients with a problem.")
    ] = None,
) -> None:
    """Create a clinic (the operator's job: no clinic role may create another clinic)."""
    application = bootstrap()
    try:
        clinic = clinics.create_clinic(
            application.unit_of_work(_OPERATOR),
            application.clock,
            application.new_id,
            name=name,
            time_zone=time_zone,
            phone=phone,
        )
    finally:
        application.dispose()
    console.print(f"Clinic {clinic.name}: {clinic.id}")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    display_name: Annotated[
        str, typer.Option("--name", help="Printed name, as it appears under signatures.")
    ],
    clinic: Annotated[str, typer.Option(help="The clinic's ID or exact name.")],
    role: Annotated[Role, typer.Option(help="The user's role in that clinic.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="REGENPATH_NEW_USER_PASSWORD",
            help="Asked for when not given (or set REGENPATH_NEW_USER_PASSWORD).",
        ),
    ],
) -> None:
    """Create a staff account with a role in one clinic."""
    application = bootstrap()
    try:
        uow = application.unit_of_work(_OPERATOR)
        clinic_id = _clinic_id(clinics.list_clinics(uow), clinic)
        user = identity.create_user(
            uow,
            application.clock,
            application.new_id,
            application.hasher,
            username=username,
            display_name=display_name,
            password=password,
            memberships={clinic_id: role},
        )
    finally:
        application.dispose()
    console.print(f"User {user.username} ({role.label}) created.")


@user_app.command("grant")
def user_grant(
    username: Annotated[str, typer.Argument(help="Whose role it is.")],
    clinic: Annotated[str, typer.Option(help="The clinic's ID or exact name.")],
    role: Annotated[Role, typer.Option(help="The role in that clinic (replaces any there).")],
) -> None:
    """Give a user a role in a further clinic: one person, a role in each clinic."""
    application = bootstrap()
    try:
        uow = application.unit_of_work(_OPERATOR)
        user = identity.grant_role(
            uow, application.clock, username, _clinic_id(clinics.list_clinics(uow), clinic), role
        )
    finally:
        application.dispose()
    console.print(f"{user.username} now has {len(user.memberships)} clinic role(s).")


def _clinic_id(known: list[Clinic], wanted: str) -> UUID:
    for clinic in known:
        if str(clinic.id) == wanted.strip() or clinic.name == wanted.strip():
            return clinic.id
    raise CommandFailed(f"no clinic {wanted!r}; `regenpath clinic create` makes one")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="Whose token it is.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "API token",
    days: Annotated[
        int, typer.Option(min=1, max=MAX_TOKEN_DAYS, help="Days until it expires.")
    ] = 90,
) -> None:
    """Create an API bearer token for a user and print it once (only its digest is stored)."""
    application = bootstrap()
    try:
        created = identity.create_token(
            application.unit_of_work(_OPERATOR),
            application.clock,
            application.new_id,
            application.digest,
            username=username,
            name=name,
            days=days,
        )
    finally:
        application.dispose()
    errors.print(
        f"Token {created.token.name!r} for {username}, expires "
        f"{created.token.expires_at:%Y-%m-%d}. It is shown this once:"
    )
    print(created.secret)


def _holds_patients(application: Application) -> bool:
    with application.engine.connect() as connection:
        return connection.execute(select(PatientRow.id).limit(1)).first() is not None


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandFailed(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _delete_sqlite_file(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise CommandFailed(
            "--reset only deletes an SQLite file; empty a PostgreSQL database yourself"
        )
    if not url.database or url.database == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        Path(url.database + suffix).unlink(missing_ok=True)


def main() -> None:
    """Run the CLI: every failure is one line on stderr and a non-zero exit, never a traceback."""
    try:
        app(standalone_mode=False)
    except typer.Abort:
        errors.print("error: aborted")
        sys.exit(130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except TyperException as error:
        # Usage errors (unknown option, a value of the wrong type): Typer's own message, in
        # one line, instead of a framed panel or a traceback.
        format_message = getattr(error, "format_message", None)
        message = format_message() if callable(format_message) else str(error)
        if type(error).__name__ == "NoArgsIsHelpError":
            console.print(message)
            sys.exit(0)
        errors.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(getattr(error, "exit_code", 2))
    except (CommandFailed, ServiceError, DomainError, AlreadyRunning) as error:
        errors.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except ValidationError as error:
        # The settings refused the environment (e.g. the default secret key in production).
        first = error.errors()[0]
        errors.print(
            f"error: configuration: {first['msg']}", markup=False, highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except OSError as error:
        # A file the command had to read or write: its name and the system's reason.
        where = f"{error.filename}: " if error.filename else ""
        errors.print(
            f"error: {where}{error.strerror or error}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    except duckdb.Error as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        errors.print(f"error: analytics: {first_line}", markup=False, highlight=False)
        sys.exit(1)
    except SQLAlchemyError as error:
        first_line = str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
        errors.print(
            f"error: database: {first_line}", markup=False, highlight=False, soft_wrap=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
