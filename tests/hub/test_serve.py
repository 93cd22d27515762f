"""`leasehub serve --server uvicorn|granian`: either server runs the app with its lifespan."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import granian
import httpx
import pytest
from granian.constants import HTTPModes, Interfaces

import hub.cli as cli
from hub.cli import DEFAULT_SERVER, SERVERS, build_parser, cmd_serve
from hub.db import Database
from hub.migrate import upgrade
from hub.settings import Settings
from models.outbox import Channel, OutboxMessage
from tests.conftest import settings_for
from tests.pg import free_port


def test_serve_offers_both_servers_and_defaults_to_the_measured_one() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).server == DEFAULT_SERVER in SERVERS
    assert parser.parse_args(["run", "--server", "granian"]).server == "granian"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--server", "hypercorn"])


def test_granian_serves_the_factory_through_asgi_with_its_lifespan(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, target: str, **options: Any) -> None:
            seen.update(options, target=target)

        def serve(self) -> None:
            seen["served"] = True

    monkeypatch.setattr(granian, "Granian", Recorder)
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path}/serve.db", HOST="127.0.0.1")
    args = build_parser().parse_args(["serve", "--server", "granian", "--workers", "2"])
    assert cmd_serve(settings, args) == 0
    assert seen["served"] and seen["target"] == "hub.cli:server_app" and seen["factory"]
    # ASGI runs the lifespan; ASGINL would skip it.
    assert seen["interface"] is Interfaces.ASGI and seen["http"] is HTTPModes.http1
    assert (seen["address"], seen["port"], seen["workers"]) == ("127.0.0.1", settings.port, 2)
    # Its access log passes fields as a mapping, which the token redaction does not rewrite.
    assert seen["log_access"] is False
    assert seen["websockets"] is True  # live subscriptions


def test_a_namespace_without_a_server_gets_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chosen: list[str] = []
    monkeypatch.setattr("hub.cli._serve_uvicorn", lambda *_: chosen.append("uvicorn"))
    monkeypatch.setattr("hub.cli._serve_granian", lambda *_: chosen.append("granian"))
    cmd_serve(settings_for(f"sqlite+aiosqlite:///{tmp_path}/serve.db"), argparse.Namespace())
    assert chosen == [DEFAULT_SERVER]


async def _queue_email(url: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.write() as session:
            session.add(
                OutboxMessage(
                    channel=Channel.EMAIL,
                    recipient="anna@firma.pl",
                    template="test",
                    subject="lifespan",
                    body="delivered by the server's own outbox task",
                )
            )
    finally:
        await db.dispose()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("server", SERVERS)
def test_each_server_runs_the_lifespan_and_stops_cleanly(server: str, tmp_path: Path) -> None:
    """A real `leasehub serve`: the outbox task the lifespan starts delivers a queued e-mail,
    and SIGTERM ends the server (the lifespan's shutdown) within a few seconds."""
    url = f"sqlite+aiosqlite:///{tmp_path}/serve.db"
    upgrade(url)
    asyncio.run(_queue_email(url))
    outbox, port = tmp_path / "outbox", free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEASEHUB_ENV": "test",
        "LEASEHUB_OUTBOX_IN_PROCESS": "true",
        "LEASEHUB_MAIL_SENDER": "file",
        "LEASEHUB_OUTBOX_DIR": str(outbox),
        "LEASEHUB_HEAVY_WORKERS": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    command = [sys.executable, "-m", "hub.cli", "serve", "--server", server]
    # A session of its own: the server's worker processes can be found, and ended, by its id.
    process = subprocess.Popen(
        command,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:

            def healthy() -> bool:
                try:
                    return client.get("/health").status_code == 200
                except httpx.TransportError:
                    return False

            assert _wait_for(healthy, 30), "the server did not come up"
        delivered = _wait_for(lambda: outbox.exists() and any(outbox.iterdir()), 15)
        assert delivered, "the lifespan's outbox task never ran"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert _wait_for(lambda: not _group_alive(process.pid), 5), "a worker outlived the server"
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait(timeout=10)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    # uvicorn ends by raising the signal again once shut down; granian exits with 0.
    assert process.returncode in (0, -signal.SIGTERM) and "Traceback" not in output, output


def test_run_in_development_starts_the_payment_sandbox_beside_the_hub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    monkeypatch.setattr(cli, "SANDBOX_PORT", port)
    # Recorded first, so that what `_with_sandbox` sets is undone after the test.
    monkeypatch.setenv("LEASEHUB_PAYU_BASE_URL", "")
    monkeypatch.delenv("LEASEHUB_PAYU_BASE_URL")
    settings, sandbox = cli._with_sandbox(Settings(LEASEHUB_ENV="development"))
    assert sandbox is not None
    try:
        url = f"http://127.0.0.1:{port}"
        assert settings.payu_base_url == url and os.environ["LEASEHUB_PAYU_BASE_URL"] == url

        def answers() -> bool:
            try:
                return httpx.get(f"{url}/sandbox/switches", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        assert _wait_for(answers, 20), "the sandbox never answered"
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def test_run_outside_development_or_with_a_gateway_starts_no_sandbox() -> None:
    production_like = Settings(LEASEHUB_ENV="test")
    assert cli._with_sandbox(production_like) == (production_like, None)
    configured = Settings(LEASEHUB_ENV="development", LEASEHUB_PAYU_BASE_URL="https://x.test")
    assert cli._with_sandbox(configured) == (configured, None)
