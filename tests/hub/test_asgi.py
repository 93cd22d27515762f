"""HubApp's shortcut for GraphQL POSTs (hub/asgi.py): the same requests with the shortcut on
and off send the same ASGI messages, byte for byte, and raise the same exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.exceptions import HTTPException

from hub.app import LeaseHubGraphQL, create_app
from hub.asgi import HubApp
from tests.conftest import Hub
from tests.schema.helpers import client_ids

CLIENT = "query Client($id: ID!) { client(id: $id) { id name } }"


def graphql_post(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of a POST /graphql from 127.0.0.1."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def call(app: Any, body: bytes, headers: dict[str, str]) -> tuple[list[Any], str | None]:
    """The messages the app sends for one POST /graphql, and the exception it raised."""
    scope = graphql_post([(k.encode(), v.encode()) for k, v in headers.items()])
    sent: list[Any] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Any:
        if chunks:
            return chunks.pop()
        await asyncio.sleep(3600)  # pragma: no cover

    async def send(message: Any) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception as error:
        return sent, type(error).__name__
    return sent, None


@pytest.fixture
def both_ways(hub: Hub) -> Iterator[Any]:
    assert hub.settings is not None
    app = create_app(hub.settings, db=hub.db)
    taken: list[str] = []
    direct = HubApp._graphql_post

    async def counted(self: HubApp, *args: Any) -> None:
        taken.append("shortcut")
        await direct(self, *args)

    async def compare(body: bytes, headers: dict[str, str], shortcut: bool = True) -> Any:
        HubApp._graphql_post = counted  # type: ignore[method-assign]
        try:
            HubApp.shortcut = False
            reference = await call(app, body, headers)
            HubApp.shortcut = True
            answer = await call(app, body, headers)
        finally:
            HubApp._graphql_post = direct  # type: ignore[method-assign]
        assert answer == reference
        assert taken == (["shortcut"] if shortcut else [])
        taken.clear()
        return answer

    yield compare
    HubApp.shortcut = True


def headers_for(hub: Hub, **more: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "authorization": f"Bearer {hub.tokens['anna']}",
        "x-request-id": "asgi-test",
        **more,
    }


async def test_a_query_gets_the_same_bytes_both_ways(hub: Hub, both_ways: Any) -> None:
    body = orjson.dumps({"query": CLIENT, "variables": {"id": (await client_ids(hub, "anna"))[0]}})
    for _ in range(2):  # learnt by the fast lane after the first
        sent, raised = await both_ways(body, headers_for(hub))
        assert raised is None
        assert sent[0]["status"] == 200 and (b"vary", b"Origin") in sent[0]["headers"]
        assert orjson.loads(sent[1]["body"])["data"]["client"]["name"]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (b"{}", {"content-length": str(10**9)}, 413),
        (orjson.dumps({"query": "{ nope }"}), {}, 200),
        (orjson.dumps({"query": "{ viewer { isStaff } }"}), {"accept-language": "en"}, 200),
    ],
    ids=["not JSON", "too large", "invalid document", "English"],
)
async def test_refusals_get_the_same_bytes_both_ways(
    hub: Hub, both_ways: Any, body: bytes, headers: dict[str, str], status: int
) -> None:
    sent, raised = await both_ways(body, headers_for(hub, **headers))
    assert raised is None and sent[0]["status"] == status


@pytest.mark.parametrize(
    ("error", "status"),
    [(RuntimeError("boom"), 500), (HTTPException(418, "teapot"), 418)],
    ids=["unhandled", "HTTPException"],
)
async def test_an_exception_in_the_view_is_answered_alike_both_ways(
    hub: Hub,
    both_ways: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    status: int,
) -> None:
    async def failing(self: LeaseHubGraphQL, request: Any) -> Any:
        raise error

    monkeypatch.setattr(LeaseHubGraphQL, "_respond", failing)
    sent, raised = await both_ways(b"{}", headers_for(hub))
    assert sent[0]["status"] == status
    # The server hears of an unhandled one (it logs it); a handled one ends there.
    assert raised == ("RuntimeError" if status == 500 else None)


async def test_a_browser_page_takes_starlettes_way_for_its_cors_headers(
    hub: Hub, both_ways: Any
) -> None:
    assert hub.settings is not None
    origin = hub.settings.allowed_origins[0] if hub.settings.allowed_origins else "http://x.test"
    sent, _ = await both_ways(
        orjson.dumps({"query": "{ viewer { isStaff } }"}),
        headers_for(hub, origin=origin),
        shortcut=False,
    )
    assert sent[0]["status"] == 200
