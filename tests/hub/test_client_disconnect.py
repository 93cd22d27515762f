"""A client that leaves before its request body arrived is no server error."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import Hub
from tests.hub.test_asgi import graphql_post


async def test_a_client_that_leaves_mid_request_is_logged_as_information_not_an_error(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    scope = graphql_post([(b"content-type", b"application/json"), (b"content-length", b"100")])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}  # gone before the body

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO, logger="leasehub"):
        await hub.app(scope, receive, send)  # nothing raised for the server to print
    records = [r for r in caplog.records if r.name.startswith("leasehub")]
    assert not [r for r in records if r.levelno >= logging.ERROR]
    assert any("client left during POST /graphql" in r.getMessage() for r in records)
    assert sent == []  # no answer to nobody
