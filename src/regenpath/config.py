"""Settings from the environment (prefix ``REGENPATH_``); the README's configuration table."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


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
    product_max_hold_hours: float = Field(
        default=48.0,
        gt=0,
        description="Hours from harvest until a fresh autologous product expires (EXP-1).",
    )
    sql_echo: bool = Field(default=False, description="Log every SQL statement (debugging).")


@lru_cache
def get_settings() -> Settings:
    return Settings()
