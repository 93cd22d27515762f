"""The server process's collector: start-up objects frozen, server thresholds, restored after."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.app import create_app
from hub.db import Database
from tests.conftest import settings_for


async def test_the_server_freezes_start_up_objects_and_sets_its_thresholds(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/gc.db"
    settings = settings_for(url, LEASEHUB_GC_THRESHOLDS="12345,11,22")
    db = Database.from_settings(settings)
    app = create_app(settings, db=db)
    before = gc.get_threshold()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000  # the modules, the schema, the app
            assert gc.get_threshold() == (12345, 11, 22)
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    finally:
        await db.dispose()


def test_gc_thresholds_are_checked_at_start_up() -> None:
    assert settings_for("sqlite://", LEASEHUB_GC_THRESHOLDS="").gc_thresholds is None
    assert settings_for("sqlite://").gc_thresholds == (20000, 20, 100)
    for bad in ("20000,20", "a,b,c", "0,10,10", "-1,10,10"):
        with pytest.raises(ValidationError, match="LEASEHUB_GC_THRESHOLDS"):
            settings_for("sqlite://", LEASEHUB_GC_THRESHOLDS=bad)
