"""The security review of single sign-on (issue 16): one test or more per finding, against the
sandbox provider over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlmodel import col

from auth import throttle, totp
from auth.sso import (
    BACKCHANNEL_EVENT,
    OidcClient,
    ProviderSettings,
    ProviderUnavailable,
    TokenRefused,
    parse_providers,
    sign_deep_link,
)
from hub.cli import _prune
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_SUB_EMAIL
from hub.idp_sandbox import DEFAULT_CLIENT_SECRET, DEMO_LINKED_SUBJECT, Identity
from hub.settings import Settings
from models.audit import AuditEvent
from models.base import utcnow
from models.contract import Contract
from models.identity import AttemptCounter, Membership, User
from models.outbox import OutboxMessage
from models.sso import LinkedIdentity, SsoLogin, SsoLogoutToken, SsoPurpose
from resolvers.ids import to_global_id
from resolvers.sso import link_by_lessor, oidc_of
from tests.conftest import DatabaseFactory, open_hub
from tests.sso.helpers import (
    CALLBACK,
    DEEP_LINK_SECRET,
    LINK,
    UNLINK,
    Env,
    authorize,
    codes,
    complete,
    count,
    hub_settings,
    password_login,
    sign_in,
    sso_env,
    start,
    switches,
    walk,
    who,
)

STAFF_ADMIN_EMAIL = "staff@demo.leasehub.pl"  # emp-100 at the sandbox
SERVICE_EMAIL = "obsluga@demo.leasehub.pl"  # emp-101
TYRES_EMAIL = "opony@demo.leasehub.pl"  # emp-102
FINANCE_EMAIL = "finanse@demo.leasehub.pl"  # emp-103
AUDIT_EMAIL = "audyt@demo.leasehub.pl"  # emp-104


@pytest.fixture(scope="module")
async def env(databases: DatabaseFactory) -> AsyncIterator[Env]:
    async with sso_env(databases) as made:
        yield made


async def _user(env: Env, email: str) -> User:
    async with env.db.read() as session:
        return (await session.execute(select(User).where(col(User.email) == email))).scalars().one()


async def _link(env: Env, provider: str, subject: str, email: str) -> None:
    """A link as the unfixed code could make it (no audience check), straight in the table."""
    user = await _user(env, email)
    async with env.db.write() as session:
        session.add(LinkedIdentity(provider=provider, subject=subject, user_id=user.id or 0))


async def _unlink(env: Env, provider: str, subject: str) -> None:
    async with env.db.write() as session:
        await session.execute(
            delete(LinkedIdentity).where(
                col(LinkedIdentity.provider) == provider, col(LinkedIdentity.subject) == subject
            )
        )


async def _links(env: Env, provider: str, email: str) -> int:
    user = await _user(env, email)
    async with env.db.read() as session:
        query = select(func.count()).where(
            col(LinkedIdentity.provider) == provider, col(LinkedIdentity.user_id) == user.id
        )
        return int(await session.scalar(query) or 0)


async def _mails(env: Env, template: str, to: str) -> int:
    async with env.db.read() as session:
        query = select(func.count()).where(
            col(OutboxMessage.template) == template, col(OutboxMessage.recipient) == to
        )
        return int(await session.scalar(query) or 0)


async def _gql_link(env: Env, provider: str, who_: str, token: str) -> dict[str, Any]:
    code, state = await walk(env, provider, who_, purpose="LINK", token=token)
    variables = {"input": {"provider": provider, "code": code, "state": state}}
    return (await env.hub.gql(LINK, variables, token=token))["data"]["ssoLink"]


def _add_staff_identity(env: Env, subject: str, email: str, group: str) -> None:
    env.idp.realms["staff"].identities[subject] = Identity(
        subject, email, "Test", "Person", [group]
    )


# ---- 1. one audience per provider ----------------------------------------------------------------


async def test_a_staff_account_linked_to_the_bank_cannot_enter_through_it(env: Env) -> None:
    await _link(env, "bank", "ing-7002", AUDIT_EMAIL)
    try:
        done = await sign_in(env, "bank", "ing-7002")
    finally:
        await _unlink(env, "bank", "ing-7002")
    assert done["token"] is None and codes(done) == ["SSO_WRONG_AUDIENCE"]


async def test_a_client_account_linked_to_the_staff_provider_gets_no_staff_role(env: Env) -> None:
    _add_staff_identity(env, "emp-201", "intruder@example.pl", "leasehub-admins")
    await _link(env, "staff", "intruder@example.pl", DEMO_SUB_EMAIL)
    try:
        done = await sign_in(env, "staff", "emp-201")
    finally:
        await _unlink(env, "staff", "intruder@example.pl")
    assert done["token"] is None and codes(done) == ["SSO_WRONG_AUDIENCE"]
    assert (await _user(env, DEMO_SUB_EMAIL)).staff_role is None


async def test_sso_link_refuses_a_provider_of_the_other_audience(env: Env) -> None:
    staff = await password_login(env, AUDIT_EMAIL, DEMO_PASSWORD)
    assert codes(await _gql_link(env, "bank", "ing-7002", staff)) == ["SSO_WRONG_AUDIENCE"]
    jan = await password_login(env, DEMO_SUB_EMAIL, DEMO_PASSWORD)
    assert codes(await _gql_link(env, "staff", "emp-105", jan)) == ["SSO_WRONG_AUDIENCE"]
    assert (await _links(env, "bank", AUDIT_EMAIL), await _links(env, "staff", DEMO_SUB_EMAIL)) == (
        0,
        0,
    )


async def test_the_lessors_link_refuses_a_provider_of_the_other_audience(env: Env) -> None:
    assert env.hub.settings is not None
    refused = await link_by_lessor(
        env.db,
        provider=env.hub.settings.sso_providers["bank"],
        subject="ing-9001",
        email=AUDIT_EMAIL,
        now=utcnow(),
    )
    assert refused is not None and refused.code == "SSO_WRONG_AUDIENCE"
    assert await _links(env, "bank", AUDIT_EMAIL) == 0


# ---- 2. e-mail matching --------------------------------------------------------------------------


async def test_an_unverified_email_claim_finds_no_staff_account(env: Env) -> None:
    await switches(env, "staff", unverified_email=True)
    try:
        done = await sign_in(env, "staff", "emp-100")
    finally:
        await switches(env, "staff")
    assert done["token"] is None and codes(done) == ["SSO_NOT_LINKED"]
    assert await _links(env, "staff", STAFF_ADMIN_EMAIL) == 0


def test_email_matching_is_a_staff_providers_opt_in() -> None:
    base = {"issuer": "https://idp", "client_id": "a", "client_secret": "b"}
    staff = ProviderSettings(name="s", audience="staff", **base)
    off = ProviderSettings(name="s", audience="staff", match_email=False, **base)
    bank = ProviderSettings(name="b", audience="clients", match_email=True, **base)
    assert (staff.matches_email, off.matches_email, bank.matches_email) == (True, False, False)


async def test_a_staff_member_who_unlinked_is_not_linked_again_by_email(env: Env) -> None:
    assert (await sign_in(env, "staff", "emp-101"))["token"] is not None  # linked by e-mail
    own = await password_login(env, SERVICE_EMAIL, DEMO_PASSWORD)
    body = await env.hub.gql(UNLINK, {"input": {"provider": "staff"}}, token=own)
    assert body["data"]["ssoUnlink"]["errors"] == []
    again = await sign_in(env, "staff", "emp-101")
    assert again["token"] is None and codes(again) == ["SSO_NOT_LINKED"]
    relinked = await _gql_link(env, "staff", "emp-101", own)  # an explicit link still works
    assert relinked["errors"] == []
    assert (await sign_in(env, "staff", "emp-101"))["token"] is not None


# ---- 3. back-channel logout by the token's own sub and sid -------------------------------------


async def test_a_logout_token_with_a_sid_ends_only_that_sign_in(env: Env) -> None:
    first = (await sign_in(env, "staff", "emp-102"))["token"]
    first_sid = list(env.idp.realms["staff"].sessions)[-1]
    second = (await sign_in(env, "staff", "emp-102"))["token"]
    async with httpx.AsyncClient() as http:
        url = f"{env.idp_url}/staff/sandbox/backchannel-logout"
        one = await http.post(url, json={"subject": "emp-102", "sid": first_sid})
        assert one.json() == {"hub_status": 200}
        assert await who(env, first) is None
        assert await who(env, second) is not None
        every = await http.post(url, json={"subject": "emp-102"})
    assert every.json() == {"hub_status": 200}
    assert await who(env, second) is None


# ---- 4. growth from anonymous calls --------------------------------------------------------------


async def test_sso_start_is_throttled_per_client_ip(env: Env) -> None:
    async with env.db.write() as session:  # the starts of the tests before
        await session.execute(
            delete(AttemptCounter).where(col(AttemptCounter.key).startswith("sso-start-ip:"))
        )
    hub, db = await open_hub(env.url, **hub_settings(env.idp_url, LEASEHUB_SSO_STARTS_PER_IP=2))
    try:
        before = await count(env, SsoLogin)
        answers = [await start(env, "bank", hub=hub) for _ in range(3)]
    finally:
        await hub.close()
        await db.dispose()
    assert [codes(answer) for answer in answers] == [[], [], ["TOO_MANY_ATTEMPTS"]]
    assert answers[2]["authorizationUrl"] is None
    assert await count(env, SsoLogin) == before + 2


async def test_a_made_up_state_leaves_nothing_behind(env: Env) -> None:
    audited = await count(env, AuditEvent)
    done = await complete(env, "bank", "some-code", "made-up-state")
    assert codes(done) == ["SSO_STATE_INVALID"]
    assert await count(env, AuditEvent) == audited


async def test_prune_forgets_expired_sign_ins_and_spent_logout_tokens(env: Env) -> None:
    assert env.hub.settings is not None
    now = utcnow()
    async with env.db.write() as session:
        for name, expires in (
            ("old", now - timedelta(minutes=1)),
            ("live", now + timedelta(hours=1)),
        ):
            session.add(
                SsoLogin(
                    state_hash=f"prune-{name}",
                    provider="bank",
                    purpose=SsoPurpose.SIGN_IN,
                    redirect_uri=CALLBACK,
                    expires_at=expires,
                )
            )
            session.add(SsoLogoutToken(provider="bank", jti=f"prune-{name}", expires_at=expires))
    await _prune(env.hub.settings, days=30)
    async with env.db.read() as session:
        logins = set((await session.execute(select(col(SsoLogin.state_hash)))).scalars()) & {
            "prune-old",
            "prune-live",
        }
        jtis = set((await session.execute(select(col(SsoLogoutToken.jti)))).scalars())
    assert logins == {"prune-live"}
    assert jtis & {"prune-old", "prune-live"} == {"prune-live"}


# ---- 5. HTTPS outside development ----------------------------------------------------------------


def _production(providers: str, redirects: str = "https://portal.example/sso/callback") -> Settings:
    return Settings(
        LEASEHUB_ENV="production",
        LEASEHUB_SECRET_KEY="s" * 40,
        LEASEHUB_SSO_PROVIDERS=providers,
        LEASEHUB_SSO_REDIRECT_URIS=redirects,
    )


def _provider_json(issuer: str, secret: str = "a-real-secret-of-the-lessor") -> str:  # noqa: S107
    return (
        f'[{{"name": "bank", "issuer": "{issuer}", "client_id": "c", '
        f'"client_secret": "{secret}", "audience": "clients"}}]'
    )


def test_production_refuses_plain_http_and_the_sandbox_secret() -> None:
    assert _production(_provider_json("https://idp.example/")).sso_providers
    with pytest.raises(ValidationError, match="https"):
        _production(_provider_json("http://idp.example"))
    with pytest.raises(ValidationError, match="https"):
        _production(_provider_json("https://idp.example"), "http://portal.example/cb")
    with pytest.raises(ValidationError, match="placeholder"):
        _production(_provider_json("https://idp.example", DEFAULT_CLIENT_SECRET))
    Settings(LEASEHUB_ENV="test", LEASEHUB_SSO_PROVIDERS=_provider_json("http://127.0.0.1:1"))


# ---- 6. the lessor's links and staff first sign-ins are audited and e-mailed -------------------


async def test_the_lessors_link_is_audited_and_emailed(env: Env) -> None:
    assert env.hub.settings is not None
    refused = await link_by_lessor(
        env.db,
        provider=env.hub.settings.sso_providers["bank"],
        subject="ing-9002",
        email=DEMO_SUB_EMAIL,
        now=utcnow(),
    )
    try:
        assert refused is None
        async with env.db.read() as session:
            query = select(AuditEvent).where(col(AuditEvent.action) == "job:sso-link")
            audited = list((await session.execute(query)).scalars())
        assert "linked_identities" in {event.object_type for event in audited}
        assert await _mails(env, "sso_linked", DEMO_SUB_EMAIL) >= 1
    finally:
        await _unlink(env, "bank", "ing-9002")


async def test_a_staff_first_sign_in_linked_by_email_is_emailed(env: Env) -> None:
    assert await _mails(env, "sso_linked", FINANCE_EMAIL) == 0
    assert (await sign_in(env, "staff", "emp-103"))["token"] is not None
    assert await _mails(env, "sso_linked", FINANCE_EMAIL) == 1
    finance = await _user(env, FINANCE_EMAIL)
    async with env.db.read() as session:
        query = select(AuditEvent).where(
            col(AuditEvent.action) == "ssoComplete",
            col(AuditEvent.object_type) == "linked_identities",
        )
        audited = list((await session.execute(query)).scalars())
    assert [None, finance.id] in [event.changes.get("user_id") for event in audited]
    assert (await sign_in(env, "staff", "emp-103"))["token"] is not None  # by its link now
    assert await _mails(env, "sso_linked", FINANCE_EMAIL) == 1


# ---- 7. the providers' documents and keys --------------------------------------------------------


class Counting(OidcClient):
    """Counts outbound fetches."""

    fetched = 0

    async def _get(self, url: str) -> dict[str, Any]:
        self.fetched += 1
        return await super()._get(url)


def _staff_provider(env: Env) -> ProviderSettings:
    assert env.hub.settings is not None
    return env.hub.settings.sso_providers["staff"]


def _logout_token(env: Env, key: RSAKey | None = None, **claims: Any) -> str:
    """A logout token as the staff realm signs them (or with `key`), claims overridable."""
    realm, now = env.idp.realms["staff"], int(time.time())
    body = {
        "iss": f"{env.idp_url}/staff",
        "aud": realm.client_id,
        "sub": "emp-104",
        "iat": now,
        "exp": now + 120,
        "jti": f"jti-{time.monotonic_ns()}",
        "events": {BACKCHANNEL_EVENT: {}},
    } | claims
    signing = key or realm.key
    alg = str(body.pop("alg", "RS256"))
    return jwt.encode({"alg": alg, "kid": signing.kid}, body, signing, algorithms=[alg])


async def test_a_rotated_key_is_accepted_at_once_and_made_up_kids_do_not_refetch(env: Env) -> None:
    client, provider = Counting(timeout=5, refresh_seconds=30), _staff_provider(env)
    await client.verify(provider, _logout_token(env), nonce=None)
    assert client.fetched == 2  # discovery and keys
    async with httpx.AsyncClient() as http:
        await http.post(f"{env.idp_url}/staff/sandbox/rotate")
    await client.verify(provider, _logout_token(env), nonce=None)  # signed with the new key
    assert client.fetched == 4
    stranger = RSAKey.generate_key(2048, parameters={"kid": "made-up"})
    for _ in range(3):
        with pytest.raises(TokenRefused):
            await client.verify(provider, _logout_token(env, stranger), nonce=None)
    assert client.fetched == 4


async def test_keys_are_fetched_once_for_parallel_first_uses_and_again_after_their_life(
    env: Env,
) -> None:
    client = Counting(timeout=5, refresh_seconds=30, cache_seconds=1.0)
    provider = _staff_provider(env)
    await asyncio.gather(*(client.directory(provider) for _ in range(5)))
    assert client.fetched == 2
    await client.directory(provider)
    assert client.fetched == 2
    await asyncio.sleep(1.1)
    await client.directory(provider)
    assert client.fetched == 4


async def test_a_provider_that_is_down_is_not_asked_again_at_once() -> None:
    client = Counting(timeout=1, refresh_seconds=30)
    down = ProviderSettings(
        name="down",
        issuer="http://127.0.0.1:9/x",
        client_id="c",
        client_secret="s",
        audience="clients",
    )
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            await client.directory(down)
    assert client.fetched == 1


async def test_a_sign_in_uses_the_configured_key_lifetime(env: Env) -> None:
    assert env.hub.settings is not None
    assert oidc_of(env.hub.settings).cache_seconds == 3600


# ---- 8. the back-channel body ------------------------------------------------------------------


async def test_a_logout_body_past_64_kb_is_refused_unread(env: Env) -> None:
    async with httpx.AsyncClient() as http:
        sent = await http.post(
            f"{env.hub_url}/sso/staff/backchannel-logout",
            content=b"logout_token=" + b"x" * (70 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert sent.status_code == 413


# ---- 9. guessing the hub's second factor through the provider ---------------------------------


async def _set_totp(env: Env, email: str, secret: str | None) -> int:
    assert env.hub.settings is not None
    async with env.db.write() as session:
        user = (await session.execute(select(User).where(col(User.email) == email))).scalars().one()
        user.totp_secret = totp.encrypt(env.hub.settings.secret_key, secret) if secret else None
        user.totp_enabled_at = utcnow() if secret else None
        user.totp_last_step = None
        return user.id or 0


async def _forget_failures(env: Env, user_id: int) -> None:
    assert env.hub.settings is not None
    key = throttle.throttle_key(env.hub.settings.secret_key, "login-account", f"user:{user_id}")
    async with env.db.write() as session:
        await throttle.forget(session, key=key)


async def test_wrong_codes_through_the_provider_count_against_the_account(env: Env) -> None:
    assert env.hub.settings is not None
    secret = totp.new_secret()
    anna = await _set_totp(env, DEMO_MAIN_EMAIL, secret)
    await switches(env, "bank", mfa=False)
    try:
        for _ in range(env.hub.settings.login_failures_per_account):
            code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
            assert codes(await complete(env, "bank", code, state)) == ["SECOND_FACTOR_REQUIRED"]
            assert codes(await complete(env, "bank", "", state, otp="000000")) == [
                "INVALID_SECOND_FACTOR"
            ]
        code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
        await complete(env, "bank", code, state)
        right = await complete(env, "bank", "", state, otp=pyotp.TOTP(secret).now())
        assert right["token"] is None and codes(right) == ["TOO_MANY_ATTEMPTS"]
        login = await env.hub.gql(
            "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) "
            "{ token errors { code } } }",
            {"l": DEMO_MAIN_EMAIL, "p": DEMO_PASSWORD},
        )
        assert [e["code"] for e in login["data"]["login"]["errors"]] == ["CAPTCHA_REQUIRED"]
    finally:
        await switches(env, "bank")
        await _set_totp(env, DEMO_MAIN_EMAIL, None)
        await _forget_failures(env, anna)


def test_only_mfa_in_amr_stands_for_the_hubs_second_factor_by_default() -> None:
    provider = ProviderSettings(
        name="b",
        issuer="https://idp",
        client_id="c",
        client_secret="s",
        audience="clients",
    )
    assert provider.asserts_mfa({"amr": ["pwd", "mfa"]})
    assert not provider.asserts_mfa({"amr": ["otp"]})
    assert not provider.asserts_mfa({"amr": ["hwk"]})


# ---- 10. token checks ---------------------------------------------------------------------------


async def test_several_audiences_without_azp_are_refused(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    await switches(env, "bank", multi_audience=True)
    try:
        with caplog.at_level(logging.WARNING, logger="leasehub.sso"):
            done = await sign_in(env, "bank", DEMO_LINKED_SUBJECT)
    finally:
        await switches(env, "bank")
    assert done["token"] is None and codes(done) == ["SSO_TOKEN_INVALID"]
    assert "token refused (AUDIENCE)" in caplog.text


async def _post_logout(env: Env, token: str) -> int:
    async with httpx.AsyncClient() as http:
        sent = await http.post(
            f"{env.hub_url}/sso/staff/backchannel-logout", data={"logout_token": token}
        )
    return sent.status_code


async def test_a_logout_token_is_used_once_and_needs_a_jti(env: Env) -> None:
    token = _logout_token(env, sub="nobody-here")
    assert await _post_logout(env, token) == 200
    assert await _post_logout(env, token) == 400
    assert await _post_logout(env, _logout_token(env, sub="nobody-here", jti=None)) == 400
    replays = await asyncio.gather(
        *(_post_logout(env, _logout_token(env, jti="j1")) for _ in range(4))
    )
    assert sorted(replays) == [200, 400, 400, 400]


async def test_only_the_providers_listed_asymmetric_algorithms_are_accepted(env: Env) -> None:
    client = OidcClient(timeout=5, refresh_seconds=30)
    provider = _staff_provider(env)  # the sandbox lists RS256 only
    with pytest.raises(TokenRefused):
        await client.verify(provider, _logout_token(env, alg="PS256"), nonce=None)
    assert (await client.verify(provider, _logout_token(env), nonce=None))["sub"] == "emp-104"


def test_an_issuer_with_a_trailing_slash_is_kept_and_compared_exactly() -> None:
    from auth.sso import _check_claims

    [provider] = parse_providers(_provider_json("https://idp.example/")).values()
    assert provider.issuer == "https://idp.example/"
    assert provider.discovery_url == "https://idp.example/.well-known/openid-configuration"
    now = int(time.time())
    claims = {"iss": "https://idp.example/", "aud": "c", "iat": now, "exp": now + 60, "sub": "x"}
    _check_claims(provider, claims | {"nonce": "n"}, nonce="n")
    with pytest.raises(TokenRefused):
        _check_claims(provider, claims | {"iss": "https://idp.example", "nonce": "n"}, nonce="n")


# ---- 11. edge cases ------------------------------------------------------------------------------


async def test_a_pending_second_factor_does_not_outlive_the_link(env: Env) -> None:
    secret = totp.new_secret()
    anna = await _set_totp(env, DEMO_MAIN_EMAIL, secret)
    await switches(env, "bank", mfa=False)
    try:
        code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
        assert codes(await complete(env, "bank", code, state)) == ["SECOND_FACTOR_REQUIRED"]
        await _unlink(env, "bank", DEMO_LINKED_SUBJECT)
        done = await complete(env, "bank", "", state, otp=pyotp.TOTP(secret).now())
        assert done["token"] is None and codes(done) == ["SSO_NOT_LINKED"]
    finally:
        await switches(env, "bank")
        await _set_totp(env, DEMO_MAIN_EMAIL, None)
        await _forget_failures(env, anna)
        await _link(env, "bank", DEMO_LINKED_SUBJECT, DEMO_MAIN_EMAIL)


async def test_parallel_first_sign_ins_of_one_staff_member_never_fail(env: Env) -> None:
    walked = [await walk(env, "staff", "emp-100") for _ in range(4)]
    bodies = await asyncio.gather(
        *(
            env.hub.gql(
                "mutation($i: SsoCompleteInput!) { ssoComplete(input: $i) "
                "{ token errors { code } } }",
                {"i": {"provider": "staff", "code": code, "state": state}},
            )
            for code, state in walked
        )
    )
    assert all("errors" not in body for body in bodies), bodies
    assert all(body["data"]["ssoComplete"]["token"] for body in bodies)
    assert await _links(env, "staff", STAFF_ADMIN_EMAIL) == 1


# ---- 12. the deep link ---------------------------------------------------------------------------


async def _contract_numbers(env: Env) -> tuple[tuple[int, str], tuple[int, str]]:
    """(id, number) of a contract of the demo main account's company and of another's."""
    anna = await _user(env, DEMO_MAIN_EMAIL)
    async with env.db.read() as session:
        mine = set(
            (
                await session.execute(
                    select(col(Membership.client_id)).where(col(Membership.user_id) == anna.id)
                )
            ).scalars()
        )
        rows = (
            await session.execute(
                select(col(Contract.id), col(Contract.number), col(Contract.client_id))
            )
        ).all()
    own = next((pk or 0, number) for pk, number, client in rows if client in mine)
    other = next((pk or 0, number) for pk, number, client in rows if client not in mine)
    return own, other


async def test_the_login_hint_goes_to_the_provider(env: Env) -> None:
    started = await start(env, "bank", loginHint=DEMO_LINKED_SUBJECT)
    assert f"login_hint={DEMO_LINKED_SUBJECT}" in started["authorizationUrl"]
    code, state = await authorize(started["authorizationUrl"], DEMO_LINKED_SUBJECT)
    assert (await complete(env, "bank", code, state))["token"] is not None


async def test_a_signed_deep_link_lands_on_the_contract_it_names(env: Env) -> None:
    (own_pk, own_number), (_, other_number) = await _contract_numbers(env)
    exp = int(time.time()) + 300
    link = sign_deep_link(DEEP_LINK_SECRET, contract_number=own_number, exp=exp)
    code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT, deepLink=link)
    done = await complete(env, "bank", code, state)
    assert done["errors"] == [] and done["contractId"] == to_global_id("Contract", own_pk)
    foreign = sign_deep_link(DEEP_LINK_SECRET, contract_number=other_number, exp=exp)
    code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT, deepLink=foreign)
    elsewhere = await complete(env, "bank", code, state)
    assert elsewhere["token"] is not None and elsewhere["contractId"] is None
    assert [(e["field"], e["code"]) for e in elsewhere["errors"]] == [("contractId", "NOT_FOUND")]


@pytest.mark.parametrize("kind", ["forged", "expired", "tampered"])
async def test_a_bad_deep_link_is_refused_at_the_start(env: Env, kind: str) -> None:
    (_, number), _ = await _contract_numbers(env)
    exp = int(time.time()) + (-10 if kind == "expired" else 300)
    secret = "another-secret-0123456789abcdef01" if kind == "forged" else DEEP_LINK_SECRET
    link = sign_deep_link(secret, contract_number=number, exp=exp)
    if kind == "tampered":
        link = sign_deep_link(DEEP_LINK_SECRET, contract_number="X", exp=exp).split(".")[0] + (
            "." + link.split(".")[1]
        )
    started = await start(env, "bank", deepLink=link)
    assert started["authorizationUrl"] is None
    assert [(e["field"], e["code"]) for e in started["errors"]] == [
        ("deepLink", "SSO_DEEP_LINK_INVALID")
    ]
