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
import sqlite3
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import numpy as np
from sqlalchemy.engine import make_url

from regenpath.adapters.db import urls
from regenpath.adapters.db.urls import libpq
from regenpath.domain.responders import AGE_BANDS, KOOS_SUBSCALES, ResponderDefinition, Rule

# The tables the relations read, and of each only the columns they read: a report needs no
# name, contact or MRN, so none is ever copied out of the record system (data minimisation).
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "clinics": ("id", "name"),
    "patients": ("id", "birth_date", "sex"),
    "episodes": ("id", "clinic_id", "patient_id", "stage", "condition_code"),
    "treatment_cycles": ("episode_id", "number", "administered_at", "product_id"),
    "products": ("id", "source", "product_type"),
    "injection_records": ("episode_id", "cycle_number", "operator"),
    "assessments": ("episode_id", "version", "data"),
    "eligibility_decisions": ("episode_id", "final", "decided_at"),
    "follow_up_visits": (
        "id",
        "episode_id",
        "cycle_number",
        "sequence",
        "label",
        "due_on",
        "closes_on",
        "completed_at",
        "cancelled",
    ),
    "questionnaire_responses": ("visit_id", "instrument", "scores", "completed_at"),
    "adverse_events": (
        "episode_id",
        "term_code",
        "grade",
        "seriousness",
        "related_product",
        "related_injection",
        "onset_on",
    ),
    "treatment_plans": ("episode_id", "version", "data"),
}
SOURCE_TABLES = tuple(SOURCE_COLUMNS)
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
           THEN TRY_CAST(json_extract_string(r.scores, '$.total') AS DOUBLE) END) AS rmdq,
       max(CASE WHEN r.instrument = 'nrs-spine'
           THEN TRY_CAST(json_extract_string(r.scores, '$.leg') AS DOUBLE) END) AS leg_pain,
       {koos_columns}
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


# -- the report's aggregates, computed in DuckDB -------------------------------------------------


def _cohort_where(
    filters: Mapping[str, str] | None, clinic_ids: Collection[UUID] | None
) -> tuple[str, list[str]]:
    scope, scope_parameters = _scope(clinic_ids)
    clauses, parameters = _filter(filters or {})
    conditions = [*scope, *clauses]
    return (" WHERE " + " AND ".join(conditions)) if conditions else "", [
        *scope_parameters,
        *parameters,
    ]


_BASELINE = {"pain": "baseline_pain", "odi": "baseline_odi"}
# Scores are floats (the ODI is unrounded): an exact boundary such as 10 -> 7 must pass,
# as in domain/responders.py.
_TOLERANCE = 1e-9


def responder_sql(definition: ResponderDefinition) -> tuple[str, str] | None:
    """A definition's (evaluable, responder) conditions over a visit joined to its cohort
    row, the same rule as :meth:`ResponderDefinition.responds` (tested to agree); None for
    a score no baseline is recorded for."""
    baseline = _BASELINE.get(definition.score)
    if baseline is None:
        return None
    score = _identifier(definition.score)
    evaluable = f"{score} IS NOT NULL AND {baseline} IS NOT NULL"
    improvement = f"({baseline} - {score})"
    threshold = float(definition.threshold)
    if definition.rule is Rule.PERCENT:
        evaluable += f" AND {baseline} > 0"
        meets = f"100 * {improvement} >= {threshold} * {baseline} - {_TOLERANCE}"
    else:
        meets = f"{improvement} >= {threshold} - {_TOLERANCE}"
    return evaluable, f"({evaluable}) AND {meets}"


class _Aggregates:
    """The report's figures as DuckDB computes them, over the clinics of ``clinic_ids``
    (None: every clinic); mixed into OutcomeData."""

    connection: duckdb.DuckDBPyConnection
    clinic_ids: Collection[UUID] | None = None

    def _selected(self, filters: Mapping[str, str] | None) -> tuple[str, list[Any]]:
        where, parameters = _cohort_where(filters, self.clinic_ids)
        return f"SELECT * FROM cohort{where}", parameters

    def cohort_summary(self, filters: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Treated patients, those with an adverse event and a serious one, and the prices."""
        chosen, parameters = self._selected(filters)
        row = self.connection.execute(
            f"""WITH c AS ({chosen})
            SELECT (SELECT count(*) FROM c),
                   (SELECT count(DISTINCT e.episode_id) FROM events e JOIN c USING (episode_id)),
                   (SELECT count(DISTINCT e.episode_id) FROM events e JOIN c USING (episode_id)
                    WHERE e.serious),
                   count(price), min(price), max(price), list(DISTINCT currency)
            FROM c""",
            parameters,
        ).fetchone()
        assert row is not None
        return {
            "n": int(row[0]),
            "with_event": int(row[1]),
            "with_serious": int(row[2]),
            "priced": int(row[3]),
            "price_min": row[4],
            "price_max": row[5],
            "currencies": [c for c in (row[6] or []) if c is not None],
        }

    def time_point_counts(
        self,
        as_of: date,
        definitions: Sequence[ResponderDefinition],
        filters: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Per time point: scheduled, due (window closed), completed when due, and for each
        definition the due patients answered, evaluable and responding."""
        chosen, parameters = self._selected(filters)
        columns = []
        usable = []
        for definition in definitions:
            sql = responder_sql(definition)
            if sql is None:
                continue
            evaluable, responds = sql
            code = definition.code.replace("-", "_")
            score = _identifier(definition.score)
            columns += [
                f"count(*) FILTER (WHERE due AND completed AND {condition}) AS {code}__{name}"
                for name, condition in (
                    ("answered", f"{score} IS NOT NULL"),
                    ("evaluable", evaluable),
                    ("responders", responds),
                )
            ]
            usable.append(definition)
        query = f"""WITH c AS ({chosen}),
            v AS (SELECT v.*, c.baseline_pain, c.baseline_odi, v.closes_on < ? AS due
                  FROM visits v JOIN c USING (episode_id))
            SELECT sequence, any_value(label), CAST(median(day) AS INTEGER), count(*),
                   count(*) FILTER (WHERE due), count(*) FILTER (WHERE due AND completed),
                   {", ".join(columns)}
            FROM v GROUP BY sequence ORDER BY sequence"""
        rows = self.connection.execute(query, [*parameters, as_of]).fetchall()
        found = []
        for row in rows:
            entry: dict[str, Any] = {
                "sequence": int(row[0]),
                "label": str(row[1]),
                "day": int(row[2]),
                "scheduled": int(row[3]),
                "due": int(row[4]),
                "completed": int(row[5]),
                "definitions": {},
            }
            for index, definition in enumerate(usable):
                answered, evaluable, responders = row[6 + 3 * index : 9 + 3 * index]
                entry["definitions"][definition.code] = (
                    int(answered),
                    int(evaluable),
                    int(responders),
                )
            found.append(entry)
        return found

    def strata_counts(
        self,
        as_of: date,
        definition: ResponderDefinition,
        sequence: int,
        filters: Mapping[str, str] | None = None,
    ) -> list[tuple[str, str, int, int, int]]:
        """At one time point, per value of every stratum (one scan, grouping sets): (stratum,
        value, due, answered, responders)."""
        sql = responder_sql(definition)
        assert sql is not None
        _evaluable, responds = sql
        chosen, parameters = self._selected(filters)
        score = _identifier(definition.score)
        sets = ", ".join(f"({name})" for name in STRATA)
        labels = " ".join(f"WHEN grouping({name}) = 0 THEN '{name}'" for name in STRATA)
        values = ", ".join(STRATA)
        rows = self.connection.execute(
            f"""WITH c AS ({chosen}),
            v AS (SELECT c.*, v.completed, v.{score}, v.closes_on < ? AS due
                  FROM visits v JOIN c USING (episode_id) WHERE v.sequence = ?)
            SELECT CASE {labels} END AS stratum, coalesce({values}) AS value,
                   count(*) FILTER (WHERE due),
                   count(*) FILTER (WHERE due AND completed AND {score} IS NOT NULL),
                   count(*) FILTER (WHERE due AND completed AND {responds})
            FROM v GROUP BY GROUPING SETS ({sets}) ORDER BY 1, 2""",
            [*parameters, as_of, sequence],
        ).fetchall()
        return [(str(s), str(v), int(d), int(a), int(r)) for s, v, d, a, r in rows]

    def durability_durations(
        self,
        definition: ResponderDefinition,
        filters: Mapping[str, str] | None = None,
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Per responder: days from the injection to the first later visit without response
        (an event), else to the last answered visit while still responding (censored)."""
        sql = responder_sql(definition)
        assert sql is not None
        _evaluable, responds = sql
        chosen, parameters = self._selected(filters)
        score = _identifier(definition.score)
        result = self.connection.execute(
            f"""WITH c AS ({chosen}),
            a AS (SELECT v.episode_id, v.day, coalesce({responds}, false) AS r
                  FROM visits v JOIN c USING (episode_id)
                  WHERE v.completed AND v.{score} IS NOT NULL),
            f AS (SELECT episode_id, min(day) FILTER (WHERE r) AS first_day
                  FROM a GROUP BY episode_id HAVING min(day) FILTER (WHERE r) IS NOT NULL),
            l AS (SELECT a.episode_id, min(a.day) FILTER (WHERE NOT a.r AND a.day > f.first_day)
                         AS lost_day
                  FROM a JOIN f USING (episode_id) GROUP BY a.episode_id),
            s AS (SELECT a.episode_id, l.lost_day,
                         max(a.day) FILTER (WHERE a.day >= f.first_day
                                            AND (l.lost_day IS NULL OR a.day < l.lost_day))
                             AS still_day
                  FROM a JOIN f USING (episode_id) JOIN l USING (episode_id)
                  GROUP BY a.episode_id, l.lost_day)
            SELECT CAST(coalesce(lost_day, still_day) AS DOUBLE) AS duration,
                   lost_day IS NOT NULL AS event
            FROM s ORDER BY episode_id""",
            parameters,
        ).fetchnumpy()
        return np.asarray(result["duration"], dtype=float), np.asarray(result["event"], dtype=bool)

    def follow_up_durations(
        self,
        as_of: date,
        left_stages: Sequence[str],
        filters: Mapping[str, str] | None = None,
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Per treated patient: days followed (to the last answer for one who left, else to
        ``as_of``) and whether they left."""
        chosen, parameters = self._selected(filters)
        marks = ", ".join("?" for _ in left_stages)
        result = self.connection.execute(
            f"""WITH c AS ({chosen}),
            last AS (SELECT episode_id, max(day) FILTER (WHERE completed) AS last_day
                     FROM visits WHERE episode_id IN (SELECT episode_id FROM c)
                     GROUP BY episode_id)
            SELECT CAST(CASE WHEN c.stage IN ({marks}) THEN coalesce(last.last_day, 0)
                        ELSE greatest(date_diff('day', c.injected_on, CAST(? AS DATE)), 0)
                        END AS DOUBLE) AS duration,
                   c.stage IN ({marks}) AS left_follow_up
            FROM c LEFT JOIN last USING (episode_id)""",
            [*parameters, *left_stages, as_of, *left_stages],
        ).fetchnumpy()
        return (
            np.asarray(result["duration"], dtype=float),
            np.asarray(result["left_follow_up"], dtype=bool),
        )

    def flow_counts(self) -> list[tuple[str, bool, bool, bool, int]]:
        """Episodes by stage and by how far they went: (stage, evaluated, eligible, treated,
        count)."""
        conditions, parameters = _scope(self.clinic_ids)
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = self.connection.execute(
            f"SELECT stage, evaluated, eligible, treated, count(*) FROM flow{where}"
            " GROUP BY ALL ORDER BY ALL",
            parameters,
        ).fetchall()
        return [(str(s), bool(v), bool(e), bool(t), int(n)) for s, v, e, t, n in rows]


class OutcomeData(_Aggregates):
    """A DuckDB connection holding the ``flow``, ``cohort`` and ``visits`` relations."""

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, clinic_ids: Collection[UUID] | None = None
    ) -> None:
        self.connection = connection
        self.clinic_ids = clinic_ids

    def scoped(self, clinic_ids: Collection[UUID] | None) -> OutcomeData:
        """The same data, seen by a reader of ``clinic_ids`` only (None: every clinic)."""
        return OutcomeData(self.connection, clinic_ids)

    @classmethod
    def live(cls, database_url: str) -> OutcomeData:
        """The live database's rows the relations read, copied into DuckDB's memory as one
        transaction's view, so every figure of a report comes from the same moment.

        SQLite: DuckDB's scanner carries a copy of SQLite of its own, and POSIX locks belong
        to the process, not to the library: when that copy closed its handle on the live file
        it dropped the server's own locks, and the next process to close the database deleted
        the -wal and -shm files the server still wrote to (SQLite's guide "How To Corrupt An
        SQLite Database File", section 2.2; issue 18). So the scanner never opens the live
        file. The application's own driver copies the needed columns into a private temporary
        file in one read transaction; DuckDB loads that file and it is deleted before this
        returns. Chosen over streaming rows through Python (slower, and the scanner's type
        mapping would have to be written again) and over a child process (a process start per
        pre-screen); measured in benchmarks/outcome_report.py.

        PostgreSQL: the scanner reads the live tables inside one DuckDB transaction, which it
        runs as one REPEATABLE READ transaction on the server.
        """
        url = make_url(database_url)
        connection = duckdb.connect()
        try:
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute("CREATE SCHEMA src")
            if url.get_backend_name() == "sqlite":
                if not url.database or url.database == ":memory:":
                    raise AnalyticsError("an in-memory SQLite database cannot be attached")
                _load_sqlite_copy(connection, Path(url.database))
            elif url.get_backend_name() == "postgresql":
                _load_extension(connection, "postgres_scanner")
                dsn = _quoted(libpq(url))
                search_path = urls.search_path(url) or "public"
                connection.execute(
                    f"ATTACH '{dsn}' AS live (TYPE postgres, READ_ONLY, SCHEMA '{search_path}')"
                )
                connection.execute("BEGIN TRANSACTION")
                _materialise(connection, f'live."{search_path}"')
                connection.execute("COMMIT")
                connection.execute("DETACH live")
            else:
                raise AnalyticsError(f"no DuckDB scanner for {url.get_backend_name()}")
            connection.execute(
                _RELATIONS_SQL.replace("{age_bands}", _age_band_sql()).replace(
                    "{koos_columns}", _koos_sql()
                )
            )
        except BaseException:
            connection.close()
            raise
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

    def export_deidentified(self, folder: Path, file_format: str) -> dict[str, int]:
        """The registry for researchers, de-identified by HIPAA Safe Harbor (45 CFR
        164.514(b)(2)): a study number drawn at random for this export instead of any record
        id; no name, contact, MRN, product DIN or practitioner; every date as days from the
        index injection; ages of 90 and over as one group. regenpath stores no address, so
        there is no ZIP code to truncate. Returns rows per file."""
        if file_format not in ("csv", "parquet"):
            raise AnalyticsError(f"{file_format!r} is not csv or parquet")
        folder.mkdir(parents=True, exist_ok=True)
        conditions, parameters = _scope(self.clinic_ids)
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
                       v.answered_day, v.pain, v.leg_pain, v.odi, v.rmdq, v.koos_symptoms,
                       v.koos_pain, v.koos_adl, v.koos_sport, v.koos_qol
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

    def strata_values(self) -> dict[str, list[str]]:
        """Every value each stratum takes in the cohort, for the report's filters."""
        conditions, parameters = _scope(self.clinic_ids)
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


def _materialise(connection: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Copy each source table's columns from an attached database into DuckDB's memory."""
    for table, columns in SOURCE_COLUMNS.items():
        connection.execute(
            f"CREATE TABLE src.{table} AS SELECT {', '.join(columns)} FROM {schema}.{table}"
        )


def _load_sqlite_copy(connection: duckdb.DuckDBPyConnection, database: Path) -> None:
    """The live SQLite file's source columns into DuckDB, through a private copy (see
    :meth:`OutcomeData.live` for why DuckDB's SQLite never opens the live file)."""
    if not database.is_file():
        raise AnalyticsError(f"{database} does not exist: run `regenpath db upgrade` first")
    with tempfile.TemporaryDirectory(prefix="regenpath-analytics-") as folder:
        private = Path(folder) / "copy.sqlite"  # mode 0700 folder: only this user reads it
        sqlite_private_copy(database, private, SOURCE_COLUMNS)
        _load_extension(connection, "sqlite_scanner")
        connection.execute(f"ATTACH '{_quoted(private)}' AS private (TYPE sqlite, READ_ONLY)")
        try:
            _materialise(connection, "private")
        finally:
            connection.execute("DETACH private")


def sqlite_private_copy(database: Path, target: Path, columns: Mapping[str, Sequence[str]]) -> None:
    """Copy ``columns`` of each table of the live SQLite ``database`` into a new file
    ``target`` with the application's own SQLite library, in one read transaction: a
    consistent view, taken while the server goes on writing (WAL readers never block)."""
    source = sqlite3.connect(database, timeout=15, isolation_level=None)
    try:
        source.execute("PRAGMA busy_timeout=15000")
        source.execute("ATTACH ? AS private", (str(target),))
        # A throwaway file: no journal, no fsync.
        source.execute("PRAGMA private.journal_mode=OFF")
        source.execute("PRAGMA private.synchronous=OFF")
        source.execute("BEGIN")
        for table, wanted in columns.items():
            declared = {
                str(row[1]): str(row[2])
                for row in source.execute(f"PRAGMA main.table_info({_identifier(table)})")
            }
            missing = [name for name in wanted if name not in declared]
            if missing:
                raise AnalyticsError(
                    f"{table} has no {', '.join(missing)}: run `regenpath db upgrade` first"
                )
            names = ", ".join(_identifier(name) for name in wanted)
            source.execute(
                f"CREATE TABLE private.{table} ("
                + ", ".join(f"{name} {declared[name]}" for name in wanted)
                + ")"
            )
            source.execute(f"INSERT INTO private.{table} SELECT {names} FROM main.{table}")
        source.execute("COMMIT")
        source.execute("DETACH private")
    finally:
        source.close()


def _koos_sql() -> str:
    return ",\n       ".join(
        f"max(CASE WHEN r.instrument = 'koos' THEN TRY_CAST(json_extract_string(r.scores,"
        f" '$.{name}') AS DOUBLE) END) AS koos_{name}"
        for name in KOOS_SUBSCALES
    )


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


def _quoted(text: Path | str) -> str:
    """A path or connection string inside a single-quoted SQL literal (ATTACH and COPY take
    no parameters)."""
    return str(text).replace("'", "''")
