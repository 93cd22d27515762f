"""The sandbox provider and the hub, both served over real HTTP on 127.0.0.1, and a "browser"
that walks the authorization code flow through them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy import func, select

from hub.db import Database
from hub.demo import DEMO_MAIN_EMAIL, DemoSpec, load_demo
from hub.idp_sandbox import DEMO_LINKED_SUBJECT, IdpSandbox, demo_providers
from models.base import utcnow
from resolvers.sso import link_by_lessor
from tests.conftest import LOGIN, DatabaseFactory, Hub, open_hub
from tests.hub.live import live_server

CALLBACK = "https://portal.leasehub.test/sso/callback"
CLIENT_SECRET = "sandbox-oidc-secret-0123456789abcdef"
DEEP_LINK_SECRET = "bank-deep-link-secret-0123456789abcdef"

START = """
mutation($input: SsoStartInput!) {
  ssoStart(input: $input) { authorizationUrl errors { field code message } }
}
"""
COMPLETE = """
mutation($input: SsoCompleteInput!) {
  ssoComplete(input: $input) { token contractId errors { field code message } }
}
"""
LINK = """
mutation($input: SsoLinkInput!) {
  ssoLink(input: $input) {
    linkedIdentity { provider subject linkedAt lastUsedAt } errors { field code message }
  }
}
"""
UNLINK = """
mutation($input: SsoUnlinkInput!) { ssoUnlink(input: $input) { errors { field code message } } }
"""
WHO = "{ viewer { staffRole user { email } linkedIdentities { provider subject lastUsedAt } } }"


class Late:
    """An ASGI app set after the server started: the hub needs the sandbox's URL first."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Env:
    hub: Hub
    db: Database
    idp: IdpSandbox
    idp_url: str
    hub_url: str
    url: str  # the database's


@asynccontextmanager
async def sso_env(databases: DatabaseFactory) -> AsyncIterator[Env]:
    idp = IdpSandbox(_realms())
    late = Late()
    async with live_server(idp.app()) as idp_url, live_server(late) as hub_url:
        url = await databases.create()
        hub, db = await open_hub(url, **hub_settings(idp_url))
        late.app = hub.app
        idp.hub_url = hub_url
        await load_demo(db.engine, DemoSpec(clients=3, seed=13))
        assert hub.settings is not None
        refused = await link_by_lessor(
            db,
            provider=hub.settings.sso_providers["bank"],
            subject=DEMO_LINKED_SUBJECT,
            email=DEMO_MAIN_EMAIL,
            now=utcnow(),
        )
        assert refused is None
        try:
            yield Env(hub=hub, db=db, idp=idp, idp_url=idp_url, hub_url=hub_url, url=url)
        finally:
            await hub.close()
            await db.dispose()


def _realms() -> Any:
    from hub.idp_sandbox import demo_realms

    return demo_realms(CLIENT_SECRET)


def hub_settings(idp_url: str, **more: Any) -> dict[str, Any]:
    bank, staff = demo_providers(idp_url, CLIENT_SECRET)
    bank["deep_link_secret"] = DEEP_LINK_SECRET
    # Staff are known by their e-mail (as with a directory's `upn`), not by the token's `sub`:
    # a back-channel logout, which names `sub`, must still find their sessions.
    staff["subject_claim"] = "email"
    return {
        "LEASEHUB_SSO_PROVIDERS": json.dumps([bank, staff]),
        "LEASEHUB_SSO_REDIRECT_URIS": CALLBACK,
        # Non-zero, as in production: a rotation must still be picked up at once.
        "LEASEHUB_SSO_KEYS_REFRESH_SECONDS": 30,
    } | more


async def start(
    env: Env,
    provider: str,
    *,
    contract_id: str | None = None,
    purpose: str = "SIGN_IN",
    token: str | None = None,
    hub: Hub | None = None,
    **more: Any,
) -> dict[str, Any]:
    """`ssoStart`; `more` are further input fields (`loginHint`, `deepLink`)."""
    variables = {
        "input": {
            "provider": provider,
            "redirectUri": CALLBACK,
            "contractId": contract_id,
            "purpose": purpose,
            **more,
        }
    }
    body = await (hub or env.hub).gql(START, variables, token=token)
    return body["data"]["ssoStart"]


async def authorize(url: str, who: str) -> tuple[str, str]:
    """The browser at the provider: picks `who`, comes back with (code, state)."""
    async with httpx.AsyncClient() as browser:
        # httpx's `params` would replace the query the hub built; the page's links append.
        answer = await browser.get(f"{url}&{urlencode({'login': who})}", follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    back = parse_qs(location.query)
    return back["code"][0], back["state"][0]


async def walk(
    env: Env,
    provider: str,
    who: str,
    *,
    contract_id: str | None = None,
    purpose: str = "SIGN_IN",
    token: str | None = None,
    **more: Any,
) -> tuple[str, str]:
    started = await start(
        env, provider, contract_id=contract_id, purpose=purpose, token=token, **more
    )
    assert started["errors"] == [], started
    return await authorize(started["authorizationUrl"], who)


async def complete(
    env: Env, provider: str, code: str, state: str, otp: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"provider": provider, "code": code, "state": state, "otp": otp}}
    body = await env.hub.gql(COMPLETE, variables)
    return body["data"]["ssoComplete"]


async def sign_in(env: Env, provider: str, who: str, **kwargs: Any) -> dict[str, Any]:
    code, state = await walk(env, provider, who, **kwargs)
    return await complete(env, provider, code, state)


async def switches(env: Env, realm: str, **values: Any) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{env.idp_url}/{realm}/sandbox/switches", json=values)
    assert answer.status_code == 200


async def groups(env: Env, subject: str, names: list[str]) -> None:
    async with httpx.AsyncClient() as http:
        url = f"{env.idp_url}/staff/sandbox/identities/{subject}"
        answer = await http.post(url, json={"groups": names})
    assert answer.status_code == 200


async def password_login(env: Env, email: str, password: str) -> str:
    body = await env.hub.gql(LOGIN, {"login": email, "password": password})
    return str(body["data"]["login"]["token"])


async def who(env: Env, token: str) -> dict[str, Any] | None:
    return (await env.hub.gql(WHO, token=token))["data"]["viewer"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def count(env: Env, model: Any) -> int:
    async with env.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
