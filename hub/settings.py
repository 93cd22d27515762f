"""One typed Settings object, read from the environment (and a `.env` file when present)."""

from __future__ import annotations

import enum
from functools import lru_cache
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "changethis-development-only"  # noqa: S105 - refused outside development


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Field(default=Environment.DEVELOPMENT, alias="LEASEHUB_ENV")
    secret_key: str = Field(default=PLACEHOLDER_SECRET, alias="LEASEHUB_SECRET_KEY")
    database_url: str = Field(default="sqlite+aiosqlite:///./leasehub.db", alias="DATABASE_URL")
    host: str = Field(default="127.0.0.1", alias="HOST")
    port: int = Field(default=8000, alias="PORT", ge=1, le=65535)
    db_pool_size: int = Field(default=10, alias="LEASEHUB_DB_POOL_SIZE", ge=1)
    session_ttl_hours: int = Field(default=12, alias="LEASEHUB_SESSION_TTL_HOURS", ge=1)
    max_query_depth: int = Field(default=12, alias="LEASEHUB_MAX_QUERY_DEPTH", ge=2)
    max_aliases: int = Field(default=20, alias="LEASEHUB_MAX_ALIASES", ge=1)
    max_tokens: int = Field(default=2000, alias="LEASEHUB_MAX_TOKENS", ge=100)
    max_query_cost: int = Field(default=50_000, alias="LEASEHUB_MAX_QUERY_COST", ge=1)
    page_size_max: int = Field(default=100, alias="LEASEHUB_PAGE_SIZE_MAX", ge=1)
    sql_echo: bool = Field(default=False, alias="LEASEHUB_SQL_ECHO")

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Self:
        if self.environment is Environment.PRODUCTION and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                "LEASEHUB_SECRET_KEY is the development placeholder; set a real secret "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if self.environment is Environment.PRODUCTION and len(self.secret_key) < 32:
            raise ValueError("LEASEHUB_SECRET_KEY must be at least 32 characters in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
