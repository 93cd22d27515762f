"""Settings come from the environment; unsafe production settings are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.settings import PLACEHOLDER_SECRET, Settings


def test_defaults_are_the_embedded_development_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "PORT", "LEASEHUB_ENV", "LEASEHUB_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.is_development and settings.is_sqlite
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_overrides_port_and_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@127.0.0.1/x")
    settings = Settings(_env_file=None)
    assert settings.port == 9123 and not settings.is_sqlite


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="LEASEHUB_SECRET_KEY"):
        Settings(_env_file=None, LEASEHUB_ENV="production", LEASEHUB_SECRET_KEY=PLACEHOLDER_SECRET)
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(_env_file=None, LEASEHUB_ENV="production", LEASEHUB_SECRET_KEY="short")
    ok = Settings(_env_file=None, LEASEHUB_ENV="production", LEASEHUB_SECRET_KEY="s" * 40)
    assert not ok.is_development


def test_port_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(ValidationError, match="PORT"):
        Settings(_env_file=None)
