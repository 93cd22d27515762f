"""Signed download links never reach a log line: uvicorn's access log prints request paths."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from hub.app import create_app
from hub.cli import build_parser, cmd_serve
from hub.db import Database
from hub.logs import install_log_redaction
from tests.conftest import DatabaseFactory, settings_for
from tests.hub.live import live_server

TOKEN = "eyJ1IjoxLCJrIjoiaW52b2ljZSJ9.c2lnbmF0dXJlLW9mLXRoZS1saW5r"


@pytest.fixture
def record_factory() -> Iterator[None]:
    """The process-wide record factory as it was, restored after the test."""
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """uvicorn's access records, wherever uvicorn's own logging setup sends them."""
    logger = logging.getLogger("uvicorn.access")
    logger.addHandler(caplog.handler)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        yield caplog
    logger.removeHandler(caplog.handler)


@pytest.mark.usefixtures("record_factory")
def test_serve_redacts_download_tokens_in_every_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kwargs: None)
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path}/serve.db")
    cmd_serve(settings, argparse.Namespace(server="uvicorn"))
    with caplog.at_level(logging.INFO):
        logging.getLogger("leasehub.anything").info("fetched %s", f"/download/{TOKEN}?x=1")
        logging.getLogger("other").warning(f"GET https://hub.test/download/{TOKEN}")
    assert TOKEN not in caplog.text
    assert caplog.text.count("/download/[redacted]") == 2


@pytest.mark.usefixtures("record_factory")
async def test_the_access_log_of_a_real_server_shows_no_download_token(
    databases: DatabaseFactory, access_log: pytest.LogCaptureFixture
) -> None:
    install_log_redaction()  # what `leasehub serve` installs, as the test above shows
    url = await databases.create()
    db = Database.from_settings(settings_for(url))
    try:
        app = create_app(settings_for(url), db=db)
        async with live_server(app) as base, httpx.AsyncClient() as http:
            response = await http.get(f"{base}/download/{TOKEN}")
    finally:
        await db.dispose()
    assert response.status_code == 404
    lines = [r.getMessage() for r in access_log.records if r.name == "uvicorn.access"]
    assert any("GET /download/[redacted]" in line for line in lines), lines
    assert TOKEN not in access_log.text


def test_serve_with_workers_builds_each_process_app_from_the_factory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path}/serve.db")
    cmd_serve(
        settings, build_parser().parse_args(["serve", "--workers", "2", "--server", "uvicorn"])
    )
    assert seen["app"] == "hub.cli:server_app" and seen["factory"] is True
    assert seen["workers"] == 2 and seen["proxy_headers"] is False
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--workers", "0"])
