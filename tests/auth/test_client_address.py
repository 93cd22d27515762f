"""The address failures are counted under: X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

import argparse
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from auth.addresses import TrustedProxies
from hub.cli import cmd_serve
from tests.conftest import LOGIN, Hub, open_hub, settings_for

PROXY = "10.77.0.1"
_logins = itertools.count(1)


@pytest.fixture(scope="module")
async def behind_proxy(flows: Hub) -> AsyncIterator[Hub]:
    """The flows database served by an app that trusts 10.77.0.0/24, two failures per IP."""
    assert flows.settings is not None
    hub, db = await open_hub(
        flows.settings.database_url,
        LEASEHUB_TRUSTED_PROXIES="10.77.0.0/24",
        LEASEHUB_LOGIN_IP_LIMIT="2",
    )
    yield hub
    await hub.close()
    await db.dispose()


async def failed_login(hub: Hub, *, peer: str, forwarded_for: str) -> str:
    """A wrong password for a login of its own, so only the per-IP limit can bite."""
    variables = {"login": f"nikt{next(_logins)}@proba.pl", "password": "Bad#pass1"}
    response = await hub.client_from(peer).post(
        "/graphql",
        json={"query": LOGIN, "variables": variables},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.json()["data"]["login"]["errors"][0]["code"]  # type: ignore[no-any-return]


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(behind_proxy: Hub) -> None:
    codes = [
        await failed_login(behind_proxy, peer="10.78.0.9", forwarded_for=f"203.0.113.{i}")
        for i in range(3)
    ]
    assert codes == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(behind_proxy: Hub) -> None:
    client, neighbour = "198.51.100.9", "198.51.100.10"
    codes = [
        await failed_login(behind_proxy, peer=PROXY, forwarded_for=f"{client}, 10.77.0.2")
        for _ in range(2)
    ]
    assert codes == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS"]
    # A made-up address in front of the real one changes nothing: the proxy saw the client.
    spoofed = await failed_login(behind_proxy, peer=PROXY, forwarded_for=f"1.2.3.4, {client}")
    assert spoofed == "TOO_MANY_ATTEMPTS"
    other = await failed_login(behind_proxy, peer=PROXY, forwarded_for=neighbour)
    assert other == "INVALID_CREDENTIALS"  # another client behind the same proxy


def test_client_address_rules() -> None:
    proxies = TrustedProxies.parse("10.77.0.0/24, 2001:db8::1")
    assert proxies.client_ip("10.77.0.5", "198.51.100.9") == "198.51.100.9"
    assert proxies.client_ip("2001:db8::1", "198.51.100.9, 10.77.0.7") == "198.51.100.9"
    assert proxies.client_ip("10.77.0.5", "10.77.0.6") == "10.77.0.6"  # proxies all the way
    assert proxies.client_ip("10.77.0.5", "nonsense") == "10.77.0.5"
    assert proxies.client_ip("192.0.2.1", "198.51.100.9") == "192.0.2.1"
    assert TrustedProxies.parse("").client_ip("10.77.0.5", "198.51.100.9") == "10.77.0.5"
    assert proxies.client_ip(None, None) == "unknown"
    with pytest.raises(ValueError, match="LEASEHUB_TRUSTED_PROXIES"):
        settings_for("sqlite+aiosqlite://", LEASEHUB_TRUSTED_PROXIES="10.0.0.300")


def test_the_server_leaves_forwarded_headers_to_the_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """uvicorn would rewrite the peer from X-Forwarded-For for any local caller by default."""
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: seen.update(options))
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path}/unused.db")
    cmd_serve(settings, argparse.Namespace(server="uvicorn"))  # granian: tests/hub/test_serve.py
    assert seen["proxy_headers"] is False
