"""The typed records of the two procedures: the harvest and the imaging-guided injection.

Harvest: "stem cells are harvested from bone marrow or adipose (fat) tissue"; bone marrow from
the iliac crest, adipose by liposuction (docs/rules.md). Injection: "guided by imaging
technologies akin to ultrasound or fluoroscopy ... 15-30 minutes".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from regenpath.domain.errors import InvalidValue


class HarvestSource(StrEnum):
    BONE_MARROW = "bone_marrow"
    ADIPOSE = "adipose"


class HarvestSite(StrEnum):
    POSTERIOR_ILIAC_CREST = "posterior_iliac_crest"
    ANTERIOR_ILIAC_CREST = "anterior_iliac_crest"
    TIBIA = "tibia"
    ABDOMEN = "abdomen"
    FLANK = "flank"
    THIGH = "thigh"
    BUTTOCK = "buttock"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


_SITES: dict[HarvestSource, frozenset[HarvestSite]] = {
    HarvestSource.BONE_MARROW: frozenset(
        {HarvestSite.POSTERIOR_ILIAC_CREST, HarvestSite.ANTERIOR_ILIAC_CREST, HarvestSite.TIBIA}
    ),
    HarvestSource.ADIPOSE: frozenset(
        {HarvestSite.ABDOMEN, HarvestSite.FLANK, HarvestSite.THIGH, HarvestSite.BUTTOCK}
    ),
}


class Laterality(StrEnum):
    """The side of an episode's target (a spinal level has none of its own)."""

    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"
    NOT_APPLICABLE = "not_applicable"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"
    MIDLINE = "midline"


class AdiposeMethod(StrEnum):
    SYRINGE_LIPOASPIRATION = "syringe_lipoaspiration"
    POWER_ASSISTED_LIPOSUCTION = "power_assisted_liposuction"
    WATER_JET_ASSISTED = "water_jet_assisted"


class Anaesthesia(StrEnum):
    LOCAL = "local"
    LOCAL_WITH_SEDATION = "local_with_sedation"
    GENERAL = "general"


# Bone marrow aspirate for orthobiologics is typically 30-120 mL and lipoaspirate up to a
# few hundred; the bounds catch typing errors, not clinical judgement.
_HARVEST_VOLUME_ML = {HarvestSource.BONE_MARROW: (1.0, 250.0), HarvestSource.ADIPOSE: (1.0, 1000.0)}
_LONGEST_PROCEDURE = timedelta(hours=6)


@dataclass(frozen=True)
class HarvestRecord:
    id: UUID
    episode_id: UUID
    cycle_number: int
    product_id: UUID
    source: HarvestSource
    site: HarvestSite
    side: Side
    anaesthesia: Anaesthesia
    volume_ml: float
    started_at: datetime
    ended_at: datetime
    operator: str
    method: AdiposeMethod | None = None
    complications: str | None = None
    nsaids_stopped: bool = False  # the pre-harvest checklist, as the physician confirmed it
    anticoagulants_reviewed: bool = False

    def __post_init__(self) -> None:
        if self.site not in _SITES[self.source]:
            raise InvalidValue("site", f"{self.site.label} is not a {self.source} harvest site")
        if self.source is HarvestSource.ADIPOSE and self.method is None:
            raise InvalidValue("method", "say how the adipose tissue was harvested")
        if self.source is HarvestSource.BONE_MARROW and self.method is not None:
            raise InvalidValue("method", "a method applies to adipose harvests only")
        low, high = _HARVEST_VOLUME_ML[self.source]
        if not low <= self.volume_ml <= high:
            raise InvalidValue("volume_ml", f"a {self.source} harvest is {low:g}-{high:g} mL")
        _check_times(self.started_at, self.ended_at)
        if self.ended_at == self.started_at:
            # A harvest takes minutes: a start equal to the end is a form left at "now".
            raise InvalidValue("ended_at", "record when the harvest started and when it ended")
        if not self.operator.strip():
            raise InvalidValue("operator", "name who harvested")

    @property
    def duration(self) -> timedelta:
        return self.ended_at - self.started_at


class Guidance(StrEnum):
    ULTRASOUND = "ultrasound"
    FLUOROSCOPY = "fluoroscopy"
    CT = "ct"
    LANDMARK = "landmark"

    @property
    def label(self) -> str:
        return {"ct": "CT", "landmark": "anatomical landmarks"}.get(self.value, self.value)


class Approach(StrEnum):
    POSTEROLATERAL_INTRADISCAL = "posterolateral_intradiscal"
    TRANSFORAMINAL_EPIDURAL = "transforaminal_epidural"
    INTERLAMINAR_EPIDURAL = "interlaminar_epidural"
    FACET_INTRA_ARTICULAR = "facet_intra_articular"
    SACROILIAC_INTRA_ARTICULAR = "sacroiliac_intra_articular"
    KNEE_SUPEROLATERAL = "knee_superolateral"
    KNEE_ANTEROMEDIAL = "knee_anteromedial"
    INTRA_ARTICULAR_OTHER = "intra_articular_other"
    PERITENDINOUS = "peritendinous"
    INTRAOSSEOUS = "intraosseous"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class TimeOutItem(StrEnum):
    """What the team confirms aloud before the needle (SITE-1: The Joint Commission's
    Universal Protocol, UP.01.03.01): the right patient, procedure, site, side and product."""

    PATIENT = "patient"
    PROCEDURE = "procedure"
    SITE = "site"
    SIDE = "side"
    PRODUCT = "product"

    @property
    def label(self) -> str:
        return {
            "patient": "Right patient (two identifiers)",
            "procedure": "Right procedure, as planned and consented",
            "site": "Right site (level or joint), marked",
            "side": "Right side",
            "product": "Right product (label read against the plan)",
        }[self.value]


@dataclass(frozen=True)
class TimeOut:
    """The time-out as it was held: who led it, when, and each item confirmed."""

    confirmed_by: str
    confirmed_at: datetime
    confirmed: frozenset[TimeOutItem]

    @property
    def missing(self) -> list[TimeOutItem]:
        return [item for item in TimeOutItem if item not in self.confirmed]


@dataclass(frozen=True)
class InjectionSite:
    """One place injected: a spinal level or joint structure, its side, volume and dose."""

    target: str
    laterality: Side
    volume_ml: float
    cell_dose_million: float | None = None  # total nucleated cells, x 10^6


@dataclass(frozen=True)
class InjectionRecord:
    id: UUID
    episode_id: UUID
    cycle_number: int
    product_id: UUID
    guidance: Guidance
    approach: Approach
    sites: tuple[InjectionSite, ...]
    started_at: datetime
    ended_at: datetime
    operator: str
    image_references: tuple[str, ...] = ()
    time_out: TimeOut | None = None  # None only on records made before the time-out was kept

    def __post_init__(self) -> None:
        if not self.sites:
            raise InvalidValue("sites", "record at least one injected site")
        for n, site in enumerate(self.sites):
            if not site.target.strip():
                raise InvalidValue(f"sites.{n}.target", "name the level or joint structure")
            if not 0 < site.volume_ml <= 100:
                raise InvalidValue(f"sites.{n}.volume_ml", "an injected volume is 0-100 mL")
            if site.cell_dose_million is not None and not 0 <= site.cell_dose_million <= 1e5:
                raise InvalidValue(f"sites.{n}.cell_dose_million", "a dose is 0-100000 x 10^6")
        _check_times(self.started_at, self.ended_at)
        if not self.operator.strip():
            raise InvalidValue("operator", "name who injected")
        if self.guidance is not Guidance.LANDMARK and not self.image_references:
            raise InvalidValue(
                "image_references", f"an injection under {self.guidance} keeps its saved images"
            )

    @property
    def total_volume_ml(self) -> float:
        return sum(site.volume_ml for site in self.sites)

    @property
    def duration(self) -> timedelta:
        return self.ended_at - self.started_at

    def check_against(self, product_volume_ml: float | None) -> None:
        """The sites cannot receive more than the product holds."""
        if product_volume_ml is not None and self.total_volume_ml > product_volume_ml + 1e-9:
            raise InvalidValue(
                "sites",
                f"{self.total_volume_ml:g} mL injected but the product holds "
                f"{product_volume_ml:g} mL",
            )


def _check_times(started_at: datetime, ended_at: datetime) -> None:
    if ended_at < started_at:
        raise InvalidValue("ended_at", "the procedure ends after it starts")
    if ended_at - started_at > _LONGEST_PROCEDURE:
        raise InvalidValue("ended_at", "a procedure of more than 6 hours is a typing error")
