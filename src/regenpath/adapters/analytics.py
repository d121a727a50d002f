"""The registry's analytic data, read by DuckDB: from the live database (its SQLite or
PostgreSQL scanner, attached read-only) or from a Parquet snapshot (`regenpath export parquet`).

Three relations, built in SQL, never row by row:

- ``flow``: every episode with how far it went (evaluated, eligible, treated) and its stage,
  for the STROBE flow;
- ``cohort``: one row per treated episode, anchored on its first injection, with the strata
  and the baseline scores;
- ``visits``: the first treatment's follow-up time points, with the scores answered.

A repeat treatment cancels what was left of the first schedule (FU-4); those time points are
left out here, and counted by the report as replaced rather than missed.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import numpy as np
from sqlalchemy.engine import make_url

from regenpath.domain.responders import AGE_BANDS

# The tables the relations read, and the relations a snapshot holds.
SOURCE_TABLES = (
    "clinics",
    "patients",
    "episodes",
    "treatment_cycles",
    "products",
    "injection_records",
    "assessments",
    "eligibility_decisions",
    "follow_up_visits",
    "questionnaire_responses",
    "adverse_events",
    "treatment_plans",
)
RELATIONS = ("flow", "cohort", "visits", "events")

# Safe Harbor, 45 CFR 164.514(b)(2)(i)(C): "all ages over 89 ... aggregated into a single
# category of age 90 or older".
SAFE_HARBOR_AGE = 90

# The strata a report may be cut by, as the cohort's columns (whitelisted: never user SQL).
STRATA = (
    "condition",
    "target",
    "cell_source",
    "age_band",
    "smoking",
    "clinic",
    "practitioner",
)

_RELATIONS_SQL = """
CREATE OR REPLACE TEMP VIEW first_injection AS
SELECT episode_id, number AS cycle_number, administered_at, product_id
FROM (
    SELECT *, row_number() OVER (PARTITION BY episode_id ORDER BY number) AS nth
    FROM src.treatment_cycles WHERE administered_at IS NOT NULL
) WHERE nth = 1;

CREATE OR REPLACE TEMP VIEW latest_assessment AS
SELECT episode_id, arg_max(CAST(data AS VARCHAR), version) AS data
FROM src.assessments GROUP BY episode_id;

CREATE OR REPLACE TEMP VIEW latest_plan AS
SELECT episode_id, arg_max(CAST(data AS VARCHAR), version) AS data
FROM src.treatment_plans GROUP BY episode_id;

CREATE OR REPLACE TEMP VIEW final_decision AS
SELECT episode_id, arg_max(final, decided_at) AS final
FROM src.eligibility_decisions WHERE final IS NOT NULL GROUP BY episode_id;

CREATE OR REPLACE TEMP VIEW flow AS
SELECT CAST(e.id AS VARCHAR) AS episode_id,
       replace(CAST(e.clinic_id AS VARCHAR), '-', '') AS clinic_id,
       e.stage,
       a.episode_id IS NOT NULL AS evaluated,
       coalesce(d.final = 'eligible', false) AS eligible,
       i.episode_id IS NOT NULL AS treated
FROM src.episodes e
LEFT JOIN latest_assessment a ON a.episode_id = e.id
LEFT JOIN final_decision d ON d.episode_id = e.id
LEFT JOIN first_injection i ON i.episode_id = e.id;

CREATE OR REPLACE TEMP VIEW cohort AS
SELECT CAST(e.id AS VARCHAR) AS episode_id,
       replace(CAST(e.clinic_id AS VARCHAR), '-', '') AS clinic_id,
       e.stage,
       cl.name AS clinic,
       left(e.condition_code, 3) AS condition,
       coalesce(json_extract_string(a.data, '$.region'), 'unknown') AS target,
       CASE
           WHEN p.source = 'allogeneic' THEN 'allogeneic'
           WHEN p.product_type = 'bmac' THEN 'autologous bone marrow'
           WHEN p.product_type LIKE '%adipose%' THEN 'autologous adipose'
           ELSE coalesce(p.product_type, 'unknown')
       END AS cell_source,
       {age_bands} AS age_band,
       coalesce(json_extract_string(a.data, '$.smoking'), 'unknown') AS smoking,
       coalesce(r.operator, 'unknown') AS practitioner,
       age,
       pt.sex,
       injected_on,
       CASE
           WHEN json_extract_string(a.data, '$.region') = 'spine'
               THEN TRY_CAST(json_extract_string(a.data, '$.back_pain_nrs') AS DOUBLE)
           ELSE TRY_CAST(json_extract_string(a.data, '$.pain_nrs') AS DOUBLE)
       END AS baseline_pain,
       TRY_CAST(json_extract_string(a.data, '$.odi') AS DOUBLE) AS baseline_odi,
       TRY_CAST(json_extract_string(pl.data, '$.price') AS DOUBLE) AS price,
       json_extract_string(pl.data, '$.currency') AS currency
FROM (
    SELECT i.*, CAST(i.administered_at AS DATE) AS injected_on FROM first_injection i
) i
JOIN src.episodes e ON e.id = i.episode_id
JOIN src.clinics cl ON cl.id = e.clinic_id
JOIN src.patients pt ON pt.id = e.patient_id
LEFT JOIN src.products p ON p.id = i.product_id
LEFT JOIN src.injection_records r
    ON r.episode_id = i.episode_id AND r.cycle_number = i.cycle_number
LEFT JOIN latest_plan pl ON pl.episode_id = e.id
LEFT JOIN latest_assessment a ON a.episode_id = e.id,
LATERAL (SELECT date_sub('year', pt.birth_date, i.injected_on) AS age);

CREATE OR REPLACE TEMP VIEW visits AS
SELECT CAST(v.episode_id AS VARCHAR) AS episode_id,
       v.sequence,
       v.label,
       date_diff('day', CAST(i.administered_at AS DATE), v.due_on) AS day,
       v.closes_on,
       v.completed_at IS NOT NULL AS completed,
       date_diff('day', CAST(i.administered_at AS DATE), CAST(v.completed_at AS DATE))
           AS answered_day,
       max(CASE r.instrument
           WHEN 'nrs-spine' THEN TRY_CAST(json_extract_string(r.scores, '$.back') AS DOUBLE)
           WHEN 'nrs-joint' THEN TRY_CAST(json_extract_string(r.scores, '$.pain') AS DOUBLE)
       END) AS pain,
       max(CASE WHEN r.instrument = 'odi'
           THEN TRY_CAST(json_extract_string(r.scores, '$.total') AS DOUBLE) END) AS odi,
       max(CASE WHEN r.instrument = 'rmdq'
           THEN TRY_CAST(json_extract_string(r.scores, '$.total') AS DOUBLE) END) AS rmdq
FROM src.follow_up_visits v
JOIN first_injection i ON i.episode_id = v.episode_id AND i.cycle_number = v.cycle_number
LEFT JOIN src.questionnaire_responses r
    ON r.visit_id = v.id AND r.completed_at IS NOT NULL
WHERE NOT CAST(v.cancelled AS BOOLEAN)
GROUP BY ALL;

CREATE OR REPLACE TEMP VIEW events AS
SELECT CAST(a.episode_id AS VARCHAR) AS episode_id,
       a.term_code,
       a.grade,
       json_array_length(CAST(a.seriousness AS JSON)) > 0 AS serious,
       a.related_product,
       a.related_injection,
       date_diff('day', CAST(i.administered_at AS DATE), a.onset_on) AS onset_day
FROM src.adverse_events a
JOIN first_injection i ON i.episode_id = a.episode_id;
"""


def write_snapshot(
    chunks: Iterable[Mapping[str, Mapping[str, np.ndarray[Any, Any]]]], folder: Path
) -> dict[str, int]:
    """Relations given as numpy columns, a chunk at a time, written as a Parquet snapshot
    that :meth:`OutcomeData.snapshot` reads; rows per relation."""
    connection = duckdb.connect()
    created: set[str] = set()
    try:
        for chunk in chunks:
            for relation, columns in chunk.items():
                assert relation in RELATIONS
                arrays = {name: np.asarray(v) for name, v in columns.items()}
                # DuckDB takes numpy dates at a finer unit; they are cast back to DATE.
                dates = {name for name, v in arrays.items() if v.dtype.kind == "M"}
                # Fixed-width numpy text is handed over as Python strings (DuckDB reads the
                # 'U' dtype as code points).
                registered = {
                    name: v.astype("datetime64[us]")
                    if name in dates
                    else v.astype(object)
                    if v.dtype.kind == "U"
                    else v
                    for name, v in arrays.items()
                }
                connection.register("chunk", registered)
                selected = ", ".join(
                    f"CAST({_identifier(name)} AS DATE) AS {name}" if name in dates else name
                    for name in arrays
                )
                if relation in created:
                    connection.execute(f"INSERT INTO {relation} SELECT {selected} FROM chunk")
                else:
                    connection.execute(f"CREATE TABLE {relation} AS SELECT {selected} FROM chunk")
                    created.add(relation)
                connection.unregister("chunk")
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for relation in sorted(created):
            path = folder / f"{relation}.parquet"
            connection.execute(f"COPY {relation} TO '{_quoted(path)}' (FORMAT parquet)")
            found = connection.execute(f"SELECT count(*) FROM {relation}").fetchone()
            written[relation] = int(found[0]) if found else 0
        return written
    finally:
        connection.close()


class AnalyticsError(Exception):
    """The analytic source cannot be read (a missing snapshot, an unsupported database)."""


class OutcomeData:
    """A DuckDB connection holding the ``flow``, ``cohort`` and ``visits`` relations."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    @classmethod
    def live(cls, database_url: str) -> OutcomeData:
        """Attach the live database read-only through DuckDB's scanner for it."""
        url = make_url(database_url)
        connection = duckdb.connect()
        connection.execute("SET TimeZone = 'UTC'")
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                raise AnalyticsError("an in-memory SQLite database cannot be attached")
            _load_extension(connection, "sqlite_scanner")
            path = _quoted(Path(url.database))
            connection.execute(f"ATTACH '{path}' AS live (TYPE sqlite, READ_ONLY)")
            schema = "live.main"
        elif url.get_backend_name() == "postgresql":
            _load_extension(connection, "postgres_scanner")
            dsn = _libpq(url).replace("'", "''")
            search_path = _search_path(url)
            connection.execute(
                f"ATTACH '{dsn}' AS live (TYPE postgres, READ_ONLY, SCHEMA '{search_path}')"
            )
            schema = f'live."{search_path}"'
        else:
            raise AnalyticsError(f"no DuckDB scanner for {url.get_backend_name()}")
        connection.execute("CREATE SCHEMA src")
        for table in SOURCE_TABLES:
            connection.execute(f"CREATE VIEW src.{table} AS SELECT * FROM {schema}.{table}")
        connection.execute(_RELATIONS_SQL.replace("{age_bands}", _age_band_sql()))
        return cls(connection)

    @classmethod
    def snapshot(cls, folder: Path) -> OutcomeData:
        """The relations as a Parquet snapshot wrote them."""
        connection = duckdb.connect()
        for relation in RELATIONS:
            path = folder / f"{relation}.parquet"
            if not path.is_file():
                raise AnalyticsError(f"{path} is missing: run `regenpath export parquet` first")
            connection.execute(
                f"CREATE VIEW {relation} AS SELECT * FROM read_parquet('{_quoted(path)}')"
            )
        return cls(connection)

    def export_parquet(self, folder: Path) -> dict[str, int]:
        """Write the three relations as Parquet files; rows per relation."""
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for relation in RELATIONS:
            path = folder / f"{relation}.parquet"
            self.connection.execute(
                f"COPY (SELECT * FROM {relation}) TO '{_quoted(path)}' (FORMAT parquet)"
            )
            written[relation] = self.count(relation)
        return written

    def export_deidentified(
        self, folder: Path, file_format: str, clinic_ids: Collection[UUID] | None = None
    ) -> dict[str, int]:
        """The registry for researchers, de-identified by HIPAA Safe Harbor (45 CFR
        164.514(b)(2)): a study number drawn at random for this export instead of any record
        id; no name, contact, MRN, product DIN or practitioner; every date as days from the
        index injection; ages of 90 and over as one group. regenpath stores no address, so
        there is no ZIP code to truncate. Returns rows per file."""
        if file_format not in ("csv", "parquet"):
            raise AnalyticsError(f"{file_format!r} is not csv or parquet")
        folder.mkdir(parents=True, exist_ok=True)
        conditions, parameters = _scope(clinic_ids)
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        self.connection.execute(
            "CREATE OR REPLACE TEMP TABLE study AS SELECT episode_id, 'S' ||"
            " lpad(CAST(row_number() OVER (ORDER BY random()) AS VARCHAR), 7, '0') AS study_id"
            f" FROM cohort{where}",
            parameters,
        )
        queries = {
            "patients": f"""
                SELECT s.study_id, c.condition, c.target, c.cell_source, c.clinic, c.sex,
                       CASE WHEN c.age >= {SAFE_HARBOR_AGE} THEN '{SAFE_HARBOR_AGE} or over'
                            ELSE CAST(c.age AS VARCHAR) END AS age_at_injection,
                       c.smoking, c.baseline_pain, c.baseline_odi
                FROM cohort c JOIN study s USING (episode_id) ORDER BY s.study_id""",
            "visits": """
                SELECT s.study_id, v.label AS time_point, v.day AS planned_day,
                       v.answered_day, v.pain, v.odi, v.rmdq
                FROM visits v JOIN study s USING (episode_id)
                ORDER BY s.study_id, v.sequence""",
            "adverse_events": """
                SELECT s.study_id, e.term_code, e.grade, e.serious, e.related_product,
                       e.related_injection, e.onset_day
                FROM events e JOIN study s USING (episode_id)
                ORDER BY s.study_id, e.onset_day, e.term_code""",
        }
        options = "(FORMAT csv, HEADER)" if file_format == "csv" else "(FORMAT parquet)"
        written = {}
        for name, query in queries.items():
            path = folder / f"{name}.{file_format}"
            self.connection.execute(f"COPY ({query}) TO '{_quoted(path)}' {options}")
            found = self.connection.execute(f"SELECT count(*) FROM ({query})").fetchone()
            written[name] = int(found[0]) if found else 0
        return written

    def count(self, relation: str) -> int:
        assert relation in RELATIONS
        found = self.connection.execute(f"SELECT count(*) FROM {relation}").fetchone()
        return int(found[0]) if found else 0

    def columns(
        self,
        relation: str,
        names: Sequence[str],
        filters: Mapping[str, str] | None = None,
        clinic_ids: Collection[UUID] | None = None,
    ) -> dict[str, np.ndarray[Any, Any]]:
        """Columns of a relation as numpy arrays, narrowed to the clinics of the reader's
        scope (``clinic_ids``; None: all) and to the cohort ``filters`` match (stratum ->
        value; the flow, which precedes treatment, is narrowed by clinic only)."""
        assert relation in RELATIONS
        clauses, parameters = _filter(filters or {})
        if relation == "flow":
            clauses, parameters = [], []
        scope = _scope(clinic_ids)
        where = ""
        if relation in ("cohort", "flow"):
            conditions = [*scope[0], *clauses]
            if conditions:
                where = " WHERE " + " AND ".join(conditions)
            parameters = [*scope[1], *parameters]
        else:
            conditions = [*scope[0], *clauses]
            if conditions:
                where = (
                    " WHERE episode_id IN (SELECT episode_id FROM cohort WHERE "
                    + " AND ".join(conditions)
                    + ")"
                )
            parameters = [*scope[1], *parameters]
        selected = ", ".join(_identifier(name) for name in names)
        query = f"SELECT {selected} FROM {relation}{where} ORDER BY episode_id"
        result = self.connection.execute(query, parameters).fetchnumpy()
        # Ids as fixed-width text: sorting, searching and grouping then run in C.
        return {
            name: np.asarray(result[name], dtype=str)
            if name == "episode_id"
            else np.asarray(result[name])
            for name in names
        }

    def strata_values(self, clinic_ids: Collection[UUID] | None = None) -> dict[str, list[str]]:
        """Every value each stratum takes in the cohort, for the report's filters."""
        conditions, parameters = _scope(clinic_ids)
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        return {
            name: [
                str(row[0])
                for row in self.connection.execute(
                    f"SELECT DISTINCT {name} FROM cohort{where} ORDER BY 1", parameters
                ).fetchall()
            ]
            for name in STRATA
        }

    def close(self) -> None:
        self.connection.close()


def _age_band_sql() -> str:
    """domain.responders.AGE_BANDS as a CASE expression: one definition of the bands."""
    arms = " ".join(
        f"WHEN age < {upper} THEN '{name}'" for upper, name in AGE_BANDS if upper is not None
    )
    return f"CASE {arms} ELSE '{AGE_BANDS[-1][1]}' END"


def _load_extension(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a scanner from its PyPI package (duckdb-extension-<name>) by its file: nothing is
    downloaded, and nothing is written to ~/.duckdb, where parallel processes would race."""
    package = importlib.import_module(f"duckdb_extension_{name}")
    found = connection.execute("PRAGMA version").fetchone()
    version = str(found[0]) if found else ""
    path = Path(str(package.__file__)).parent / "extensions" / version / f"{name}.duckdb_extension"
    if not path.is_file():
        raise AnalyticsError(f"the {name} extension for DuckDB {version} is not installed")
    connection.execute(f"LOAD '{_quoted(path)}'")


def _scope(clinic_ids: Collection[UUID] | None) -> tuple[list[str], list[str]]:
    """The reader's clinics: ids compare as hex, whatever form each database stores them in."""
    if clinic_ids is None:
        return [], []
    if not clinic_ids:
        return ["false"], []
    marks = ", ".join("?" for _ in clinic_ids)
    return [f"clinic_id IN ({marks})"], [clinic.hex for clinic in clinic_ids]


def _filter(filters: Mapping[str, str]) -> tuple[list[str], list[str]]:
    clauses, parameters = [], []
    for name, value in filters.items():
        if name not in STRATA:
            raise AnalyticsError(f"{name!r} is not a stratum ({', '.join(STRATA)})")
        clauses.append(f"{name} = ?")
        parameters.append(value)
    return clauses, parameters


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _identifier(name: str) -> str:
    if not _NAME.match(name):
        raise AnalyticsError(f"{name!r} is not a column")
    return name


def _quoted(path: Path) -> str:
    """A path inside a single-quoted SQL literal (ATTACH and COPY take no parameters)."""
    return str(path).replace("'", "''")


_SEARCH_PATH = re.compile(r"-c\s*search_path=([A-Za-z_][A-Za-z0-9_]*)")


def _search_path(url: Any) -> str:
    """The schema the application's URL puts first (``options=-csearch_path=...``), else
    PostgreSQL's default."""
    options = url.query.get("options", "")
    found = _SEARCH_PATH.search(options if isinstance(options, str) else " ".join(options))
    return found.group(1) if found else "public"


def _libpq(url: Any) -> str:
    """A SQLAlchemy PostgreSQL URL as the libpq connection string DuckDB's scanner takes."""
    parts = {
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "user": url.username,
        "password": url.password,
    }
    return " ".join(f"{key}={value}" for key, value in parts.items() if value is not None)
