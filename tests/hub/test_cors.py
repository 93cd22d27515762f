"""CORS: a browser on an allowed origin may call the API; any other origin learns nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.db import Database
from hub.settings import Settings
from tests.conftest import DatabaseFactory

PORTAL = "https://portal.leasehub.test"
EVIL = "https://evil.example"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}
QUERY = {"query": "{ __typename }"}


def settings_with(url: str, **env: Any) -> Settings:
    return Settings(**{"LEASEHUB_ENV": "test", "DATABASE_URL": url, **env})


@pytest.fixture(scope="module")
async def client(databases: DatabaseFactory) -> AsyncIterator[httpx.AsyncClient]:
    url = await databases.create()
    db = Database.from_settings(settings_with(url))
    app = create_app(
        settings_with(url, LEASEHUB_CORS_ORIGINS=f"{PORTAL}, http://other.test"), db=db
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http
    await db.dispose()


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_a_preflight_from_an_allowed_origin_gets_what_a_browser_needs(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/graphql", headers={"origin": PORTAL, **PREFLIGHT})
    assert response.status_code == 200
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == PORTAL
    allowed_headers = headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert {"GET", "POST", "OPTIONS"} <= set(headers["access-control-allow-methods"].split(", "))

    answer = await client.post("/graphql", json=QUERY, headers={"origin": PORTAL})
    assert answer.headers["access-control-allow-origin"] == PORTAL


async def test_only_allowed_origins_get_cors_headers(client: httpx.AsyncClient) -> None:
    for origin, allowed in ((PORTAL, True), ("http://other.test", True), (EVIL, False)):
        preflight = await client.options("/graphql", headers={"origin": origin, **PREFLIGHT})
        answer = await client.post("/graphql", json=QUERY, headers={"origin": origin})
        assert answer.status_code == 200
        if allowed:
            assert preflight.status_code == 200
            assert cors_headers(preflight)["access-control-allow-origin"] == origin
            assert cors_headers(answer) == {"access-control-allow-origin": origin}
        else:
            assert preflight.status_code >= 400
            assert cors_headers(preflight) == cors_headers(answer) == {}


def test_allowed_origins_default_to_the_portal_in_development_only() -> None:
    portal = "http://127.0.0.1:3000/portal/"
    development = Settings(LEASEHUB_ENV="development", LEASEHUB_PORTAL_URL=portal)
    production = Settings(
        LEASEHUB_ENV="production", LEASEHUB_PORTAL_URL=portal, LEASEHUB_SECRET_KEY="s" * 40
    )
    assert development.allowed_origins == ["http://127.0.0.1:3000"]
    assert production.allowed_origins == []
    listed = Settings(
        LEASEHUB_ENV="production",
        LEASEHUB_SECRET_KEY="s" * 40,
        LEASEHUB_CORS_ORIGINS="https://a.test, https://b.test/",
    )
    assert listed.allowed_origins == ["https://a.test", "https://b.test"]
