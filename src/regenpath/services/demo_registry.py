"""A synthetic registry at scale: the outcome report's relations (flow, cohort, visits,
events) for any number of episodes, generated with numpy, a chunk at a time.

It is a stand-in for years of a clinic network's records, for the analytics only: the
clinic database keeps the 200-patient pathway demo, and the report reads this registry as a
Parquet snapshot. Its shape follows docs/rules.md, and every number is
invented:

- responders keep about 60 % relief from month three, some lose it again after month six,
  non-responders hover around their baseline (so the durability curve has losses to show);
- drop-out depends on the outcome: a patient who is not better stops answering sooner
  (docs/rules.md: in a self-pay clinic missingness may be informative);
- adverse events at the AE-5 baselines: post-procedure flares the most common (3.9 %),
  serious events possibly related at about 0.55 % of administrations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from regenpath.domain.followup import DEFAULT_SCHEDULE, parse_schedule
from regenpath.domain.responders import AGE_BANDS, KOOS_SUBSCALES

Relations = dict[str, dict[str, npt.NDArray[np.generic]]]

CHUNK = 100_000
# (condition, target, share); knee and spine are what clinics mostly treat.
CONDITIONS = (
    ("M17", "knee", 0.42),
    ("M51", "spine", 0.38),
    ("M16", "other_joint", 0.12),
    ("M75", "other_joint", 0.08),
)
CELL_SOURCES = (("autologous bone marrow", 0.45), ("autologous adipose", 0.2), ("allogeneic", 0.35))
SMOKING = (("never", 0.6), ("former", 0.28), ("current", 0.12))
YEARS = 5  # injections spread over the five years before the registry's day


@dataclass(frozen=True)
class RegistryClinic:
    id_hex: str  # as the relations keep clinic ids: 32 hex digits
    name: str


def _pick(
    rng: np.random.Generator, choices: Sequence[tuple[str, float]], n: int
) -> npt.NDArray[np.str_]:
    names = np.array([name for name, _share in choices])
    shares = np.array([share for _name, share in choices])
    return names[rng.choice(len(choices), size=n, p=shares / shares.sum())]


def _age_bands(age: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    bands = np.full(age.shape, AGE_BANDS[-1][1], dtype=object)
    for upper, name in reversed(AGE_BANDS[:-1]):
        assert upper is not None
        bands[age < upper] = name
    return bands.astype(str)


@dataclass(frozen=True)
class _Treated:
    """The treated cohort of a chunk, and what the visits are drawn from."""

    columns: dict[str, npt.NDArray[np.generic]]
    days_ago: npt.NDArray[np.int64]
    responds: npt.NDArray[np.bool_]
    fades: npt.NDArray[np.bool_]
    spine: npt.NDArray[np.bool_]
    knee: npt.NDArray[np.bool_]


def _treated(
    rng: np.random.Generator,
    ids: npt.NDArray[np.str_],
    clinic: npt.NDArray[np.int64],
    clinics: Sequence[RegistryClinic],
    as_of: date,
) -> _Treated:
    m = len(ids)
    pick = rng.choice(len(CONDITIONS), size=m, p=[share for _c, _t, share in CONDITIONS])
    target = np.array([t for _c, t, _s in CONDITIONS])[pick]
    spine = target == "spine"
    cell_source = _pick(rng, CELL_SOURCES, m)
    smoking = _pick(rng, SMOKING, m)
    age = np.clip(np.round(rng.normal(58, 12, m)), 22, 94).astype(np.int64)
    doctor = rng.integers(1, 4, size=m).astype(str)
    practitioner = np.char.add(
        np.char.add(np.char.add("Physician ", doctor), " of clinic "), (clinic + 1).astype(str)
    )
    days_ago = rng.integers(0, YEARS * 365, size=m)
    baseline_pain = np.clip(np.round(rng.normal(7, 1.4, m)), 3, 10)
    # Who responds: about half; less often for smokers, the oldest and donor cells.
    chance = 0.5 - 0.12 * (smoking == "current") - 0.06 * (age >= 70)
    chance = chance - 0.05 * (cell_source == "allogeneic")
    responds = rng.random(m) < chance
    columns: dict[str, npt.NDArray[np.generic]] = {
        "episode_id": ids,
        "clinic_id": np.array([c.id_hex for c in clinics])[clinic],
        "clinic": np.array([c.name for c in clinics])[clinic],
        "condition": np.array([c for c, _t, _s in CONDITIONS])[pick],
        "target": target,
        "cell_source": cell_source,
        "age_band": _age_bands(age),
        "smoking": smoking,
        "practitioner": practitioner,
        "age": age,
        "sex": np.where(rng.random(m) < 0.52, "female", "male"),
        "injected_on": np.datetime64(as_of, "D") - days_ago.astype("timedelta64[D]"),
        "baseline_pain": baseline_pain,
        "baseline_odi": np.where(spine, np.clip(np.round(rng.normal(44, 12, m)), 10, 90), np.nan),
        "price": np.round(rng.uniform(3500, 6500, m) / 50) * 50,
        "currency": np.full(m, "USD"),
    }
    fades = responds & (rng.random(m) < 0.3)
    return _Treated(columns, days_ago, responds, fades, spine, target == "knee")


def _visits(
    rng: np.random.Generator, cohort: _Treated, as_of: date
) -> tuple[dict[str, npt.NDArray[np.generic]], npt.NDArray[np.bool_]]:
    """Every time point of the schedule; and who stopped answering for good (lost)."""
    points = parse_schedule(DEFAULT_SCHEDULE)
    m, k = len(cohort.days_ago), len(points)
    rows = np.repeat(np.arange(m), k)
    day = np.tile(np.array([p.days for p in points]), m)
    injected = cohort.columns["injected_on"][rows]
    closes_after = np.tile(np.array([p.closes_after for p in points]), m)
    opened = injected + day.astype("timedelta64[D]") <= np.datetime64(as_of, "D")
    # Drop-out depends on the outcome: at each time point a responder stops for good with
    # probability 4 %, a non-responder 12 %; a patient still in misses one now and then.
    stop = rng.random((m, k)) < np.where(cohort.responds, 0.04, 0.12)[:, None]
    still_in = np.cumsum(stop, axis=1) == 0
    answered = (still_in & (rng.random((m, k)) < 0.92)).ravel() & opened
    relief = 0.6 * np.minimum(1.0, day / 90)
    fading = np.repeat(cohort.fades, k) & (day > 180)
    relief = np.where(fading, relief * np.maximum(0.0, 1 - (day - 180) / 365), relief)
    left = np.where(np.repeat(cohort.responds, k), 1 - relief, 1.0)
    left = np.clip(left + rng.uniform(-0.15, 0.15, m * k), 0, 1.3)
    baseline = cohort.columns["baseline_pain"].astype(float)[rows]
    spine = np.repeat(cohort.spine, k) & answered
    odi_base = cohort.columns["baseline_odi"].astype(float)[rows]
    rmdq = np.clip(np.round(14 * left + rng.normal(0, 2, m * k)), 0, 24)
    visits: dict[str, npt.NDArray[np.generic]] = {
        "episode_id": cohort.columns["episode_id"][rows],
        "sequence": np.tile(np.arange(1, k + 1), m),
        "label": np.tile(np.array([p.label for p in points]), m),
        "day": day,
        "closes_on": injected + (day + closes_after).astype("timedelta64[D]"),
        "completed": answered,
        "answered_day": np.where(answered, day + rng.integers(0, 6, m * k), np.nan),
        "pain": np.where(answered, np.clip(np.round(baseline * left), 0, 10), np.nan),
        "odi": np.where(spine, np.clip(np.round(odi_base * left), 0, 100), np.nan),
        "rmdq": np.where(spine, rmdq, np.nan),
        "leg_pain": np.where(spine, np.clip(np.round(baseline * left * 0.6), 0, 10), np.nan),
        **_koos(rng, np.repeat(cohort.knee, k) & answered, left),
    }
    return visits, ~still_in[:, -1] & (cohort.days_ago > 400)


def _koos(
    rng: np.random.Generator, knee: npt.NDArray[np.bool_], left: npt.NDArray[np.float64]
) -> dict[str, npt.NDArray[np.generic]]:
    """The five KOOS subscales (100 = no problems) of the knees that answered, following
    the same course as their pain."""
    return {
        f"koos_{name}": np.where(
            knee, np.clip(np.round(100 - 55 * left + rng.normal(0, 8, len(left))), 0, 100), np.nan
        )
        for name in KOOS_SUBSCALES
    }


def _events(rng: np.random.Generator, cohort: _Treated) -> dict[str, npt.NDArray[np.generic]]:
    """AE-5 baselines: flares 3.9 %, harvest-site haematomas, serious events 0.55 %."""
    m = len(cohort.days_ago)
    flare = np.flatnonzero(rng.random(m) < 0.039)
    autologous = cohort.columns["cell_source"] != "allogeneic"
    harvest = np.flatnonzero(autologous & (rng.random(m) < 0.02))
    serious = np.flatnonzero(rng.random(m) < 0.0055)
    rows = np.concatenate([flare, harvest, serious])
    related = np.concatenate(
        [
            np.full(len(flare), "probable"),
            np.full(len(harvest), "unlikely"),
            np.where(rng.random(len(serious)) < 0.5, "possible", "probable"),
        ]
    )
    return {
        "episode_id": cohort.columns["episode_id"][rows],
        "term_code": np.concatenate(
            [
                np.full(len(flare), "POST_FLARE"),
                np.full(len(harvest), "HARVEST_HEMATOMA"),
                np.where(rng.random(len(serious)) < 0.7, "INFECTION", "VTE_PE"),
            ]
        ),
        "grade": np.concatenate(
            [np.full(len(flare), 1), np.full(len(harvest), 2), np.full(len(serious), 3)]
        ),
        "serious": np.arange(len(rows)) >= len(flare) + len(harvest),
        "related_product": related,
        "related_injection": related,
        "onset_day": rng.integers(0, 30, size=len(rows)),
    }


def _chunk(
    rng: np.random.Generator,
    first: int,
    n: int,
    clinics: Sequence[RegistryClinic],
    as_of: date,
) -> Relations:
    ids = np.char.add("R", np.char.zfill(np.arange(first, first + n).astype(str), 8))
    clinic = rng.integers(0, len(clinics), size=n)
    # The flow: 90 % evaluated, 82 % of those eligible, 85 % of those treated.
    evaluated = rng.random(n) < 0.9
    eligible = evaluated & (rng.random(n) < 0.82)
    treated = eligible & (rng.random(n) < 0.85)
    t = np.flatnonzero(treated)
    cohort = _treated(rng, ids[t], clinic[t], clinics, as_of)
    visits, lost = _visits(rng, cohort, as_of)
    finished = cohort.days_ago > YEARS * 365 - 30
    treated_stage = np.where(
        lost, "lost_to_follow_up", np.where(finished, "completed", "follow_up")
    )
    stage = np.where(eligible, "withdrawn", np.where(evaluated, "ineligible", "referred"))
    stage = stage.astype(object)
    stage[t] = treated_stage
    return {
        "flow": {
            "episode_id": ids,
            "clinic_id": np.array([c.id_hex for c in clinics])[clinic],
            "stage": stage.astype(str),
            "evaluated": evaluated,
            "eligible": eligible,
            "treated": treated,
        },
        "cohort": {**cohort.columns, "stage": treated_stage},
        "visits": visits,
        "events": _events(rng, cohort),
    }


def generate_registry(
    episodes: int,
    clinics: Sequence[RegistryClinic],
    as_of: date,
    seed: int = 7,
    on_chunk: Callable[[int], None] | None = None,
) -> Iterator[Relations]:
    """The registry, CHUNK episodes at a time (so a million fit in a few hundred MB)."""
    if not clinics:
        raise ValueError("a registry needs at least one clinic")
    rng = np.random.default_rng(seed)
    for first in range(0, episodes, CHUNK):
        n = min(CHUNK, episodes - first)
        yield _chunk(rng, first, n, clinics, as_of)
        if on_chunk is not None:
            on_chunk(n)
