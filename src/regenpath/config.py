"""Settings from the environment (prefix ``REGENPATH_``); the README's configuration table."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from regenpath.domain.followup import DEFAULT_MISSED_FOR_LOST, DEFAULT_SCHEDULE, parse_schedule
from regenpath.domain.instruments import DEFAULT_ODI_MIN_SECTIONS
from regenpath.domain.products import DEFAULT_MAX_HOLD_HOURS, ProductType


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


# Public on purpose: it is only good for development, and production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGENPATH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./regenpath.db",
        description="SQLAlchemy URL; PostgreSQL in production (postgresql+psycopg://...).",
    )
    environment: Environment = Field(
        default=Environment.DEVELOPMENT, description="development or production."
    )
    host: str = Field(default="127.0.0.1", description="Address `regenpath serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `regenpath serve` uses.")
    product_max_hold_hours: dict[ProductType, float] = Field(
        default_factory=lambda: dict(DEFAULT_MAX_HOLD_HOURS),
        description=(
            "Hours from collection until a product expires, per product type, as JSON "
            '(EXP-1), e.g. {"bmac": 72}; types not named keep their default (48 h fresh, '
            "8760 h cryopreserved donor products)."
        ),
    )
    din_facility_code: str = Field(
        default="W9999",
        pattern=r"^[A-Z][A-Z0-9]{4}$",
        description=(
            "The ISBT 128 facility identification number (FIN) that starts every DIN; "
            "use the one ICCBBA assigned to the clinic (ISBT-1)."
        ),
    )
    eligibility_ruleset: Path | None = Field(
        default=None,
        description="A clinic's own eligibility ruleset (TOML); the shipped default if unset.",
    )
    signal_baseline: float = Field(
        default=0.0055,
        gt=0,
        lt=0.2,
        description="Safety signals: the baseline rate of serious related adverse events (AE-5).",
    )
    signal_ratio: float = Field(
        default=5.0, gt=1, le=50, description="Safety signals: the rise the CUSUM detects."
    )
    signal_threshold: float = Field(
        default=7.0, gt=0, le=50, description="Safety signals: the CUSUM alert threshold."
    )
    follow_up_schedule: str = Field(
        default=DEFAULT_SCHEDULE,
        description="Follow-up time points after the injection (FU-1), e.g. `6w, 3m, 12m`.",
    )
    follow_up_schedules: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Other schedules by ICD-10-CM prefix, as JSON, e.g. "
            '{"M17": "6w, 3m, 6m, 12m, 24m"}; the longest matching prefix wins.'
        ),
    )
    missed_for_lost: int = Field(
        default=DEFAULT_MISSED_FOR_LOST,
        ge=1,
        le=10,
        description="Consecutive missed time points that make an episode lost to follow-up.",
    )
    odi_text: Path | None = Field(
        default=None,
        description="The clinic's licensed ODI v2.1a text (TOML); without it the portal "
        "offers the other instruments.",
    )
    odi_min_sections: int = Field(
        default=DEFAULT_ODI_MIN_SECTIONS,
        ge=1,
        le=10,
        description="ODI sections that must be answered for a score (Fairbank; default 9).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address patients reach regenpath at: the base of portal links.",
    )
    portal_link_hours: float = Field(
        default=72.0, gt=0, le=24 * 14, description="How long an emailed portal link works."
    )
    portal_session_hours: float = Field(
        default=2.0, gt=0, le=24, description="How long a patient's portal sign-in lasts."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for email.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    smtp_sender: str = Field(
        default="regenpath@localhost", description="The From address of patient emails."
    )
    smtp_starttls: bool = Field(default=False, description="Upgrade SMTP with STARTTLS.")
    smtp_username: str | None = Field(default=None, description="SMTP user, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    worker_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often `regenpath worker` looks for due work."
    )
    registry_snapshot: Path | None = Field(
        default=None,
        description="A Parquet snapshot (regenpath export parquet, or the synthetic registry "
        "of regenpath demo --episodes) the outcome report reads instead of the live database.",
    )
    sql_echo: bool = Field(default=False, description="Log every SQL statement (debugging).")
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET_KEY),
        description=(
            "Keys the digests of session cookies and API tokens. Production refuses the "
            "default; rotating it signs everyone out and voids every API token."
        ),
    )
    cookie_secure: bool = Field(
        default=True, description="Send the session cookie over HTTPS only (Secure)."
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="How long a web sign-in lasts."
    )
    lockout_failures: int = Field(
        default=5, ge=1, description="Wrong passwords within the window that lock an account."
    )
    lockout_window_seconds: int = Field(
        default=60, ge=1, description="The window the wrong passwords are counted in."
    )
    lockout_minutes: float = Field(
        default=15.0, gt=0, description="How long a locked account refuses sign-ins."
    )

    @field_validator("follow_up_schedule")
    @classmethod
    def _schedule_parses(cls, text: str) -> str:
        parse_schedule(text)
        return text

    @field_validator("product_max_hold_hours")
    @classmethod
    def _hold_times_are_positive(cls, hours: dict[ProductType, float]) -> dict[ProductType, float]:
        if any(value <= 0 for value in hours.values()):
            raise ValueError("every maximum hold time must be positive")
        return DEFAULT_MAX_HOLD_HOURS | hours

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.environment is Environment.PRODUCTION and (
            key == DEVELOPMENT_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH
        ):
            raise ValueError(
                "REGENPATH_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
