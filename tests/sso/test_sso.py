"""Single sign-on (AUTH-10) against the sandbox provider, both over real HTTP: the bank entry,
every forged or wrong token, replays, key rotation, staff roles from groups, back-channel
logout, linking and unlinking, the staff password switch and the second factor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import select
from sqlmodel import col

from auth import totp
from hub.cli import build_parser
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DEMO_SUB_EMAIL
from hub.idp_sandbox import DEMO_LINKED_SUBJECT
from models.audit import AuditEvent
from models.base import utcnow
from models.contract import Contract
from models.identity import AuthToken, Membership, StaffRole, User
from models.outbox import OutboxMessage
from models.sso import LinkedIdentity
from resolvers.ids import to_global_id
from tests.conftest import DatabaseFactory, open_hub
from tests.sso.helpers import (
    LINK,
    UNLINK,
    Env,
    authorize,
    codes,
    complete,
    count,
    groups,
    password_login,
    sign_in,
    sso_env,
    start,
    switches,
    walk,
    who,
)


@pytest.fixture(scope="module")
async def env(databases: DatabaseFactory) -> AsyncIterator[Env]:
    async with sso_env(databases) as made:
        yield made


async def _user(env: Env, email: str) -> User:
    async with env.db.read() as session:
        found = await session.execute(select(User).where(col(User.email) == email))
        return found.scalars().one()


async def _contracts(env: Env, email: str) -> tuple[str, str]:
    """A contract of the person's company and one of another company (global ids)."""
    user = await _user(env, email)
    async with env.db.read() as session:
        mine = set(
            (
                await session.execute(
                    select(col(Membership.client_id)).where(col(Membership.user_id) == user.id)
                )
            ).scalars()
        )
        rows = (await session.execute(select(col(Contract.id), col(Contract.client_id)))).all()
    own = next(pk or 0 for pk, client in rows if client in mine)
    other = next(pk or 0 for pk, client in rows if client not in mine)
    return to_global_id("Contract", own), to_global_id("Contract", other)


# ---- the bank entry ---------------------------------------------------------------------------


async def test_a_bank_customer_lands_on_their_contract_without_a_password(env: Env) -> None:
    own, _ = await _contracts(env, DEMO_MAIN_EMAIL)
    done = await sign_in(env, "bank", DEMO_LINKED_SUBJECT, contract_id=own)
    assert done["errors"] == []
    assert done["contractId"] == own
    viewer = await who(env, done["token"])
    assert viewer is not None and viewer["user"]["email"] == DEMO_MAIN_EMAIL
    assert viewer["staffRole"] is None
    [linked] = viewer["linkedIdentities"]
    assert (linked["provider"], linked["subject"]) == ("bank", DEMO_LINKED_SUBJECT)
    assert linked["lastUsedAt"] is not None


async def test_a_deep_link_to_another_companys_contract_answers_as_a_missing_one(
    env: Env,
) -> None:
    _, other = await _contracts(env, DEMO_MAIN_EMAIL)
    done = await sign_in(env, "bank", DEMO_LINKED_SUBJECT, contract_id=other)
    assert done["token"] is not None  # the sign-in itself stands
    assert done["contractId"] is None
    assert [(e["field"], e["code"]) for e in done["errors"]] == [("contractId", "NOT_FOUND")]


async def test_an_unlinked_identity_gets_a_code_and_creates_nothing(env: Env) -> None:
    before = [await count(env, model) for model in (User, AuthToken, LinkedIdentity, Membership)]
    done = await sign_in(env, "bank", "ing-7002")
    assert done["token"] is None and codes(done) == ["SSO_NOT_LINKED"]
    after = [await count(env, model) for model in (User, AuthToken, LinkedIdentity, Membership)]
    assert after == before


async def test_an_unknown_provider_and_a_foreign_return_address_are_refused(env: Env) -> None:
    assert codes(await start(env, "nobank")) == ["SSO_PROVIDER_UNKNOWN"]
    variables = {"input": {"provider": "bank", "redirectUri": "https://evil.test/cb"}}
    body = await env.hub.gql(
        "mutation($input: SsoStartInput!) { ssoStart(input: $input) { errors { code } } }",
        variables,
    )
    assert [e["code"] for e in body["data"]["ssoStart"]["errors"]] == ["SSO_REDIRECT_NOT_ALLOWED"]


# ---- forged and replayed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("switch", "detail"),
    [
        ("signature", "SIGNATURE"),
        ("issuer", "ISSUER"),
        ("audience", "AUDIENCE"),
        ("expired", "EXPIRED"),
        ("nonce", "NONCE"),
    ],
)
async def test_a_forged_or_wrong_id_token_is_refused_with_a_code(
    env: Env, switch: str, detail: str, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = await count(env, AuthToken)
    await switches(env, "bank", **{switch: True})
    try:
        with caplog.at_level(logging.WARNING, logger="leasehub.sso"):
            done = await sign_in(env, "bank", DEMO_LINKED_SUBJECT)
    finally:
        await switches(env, "bank")
    assert done["token"] is None and codes(done) == ["SSO_TOKEN_INVALID"]
    assert f"token refused ({detail})" in caplog.text
    assert await count(env, AuthToken) == tokens


async def test_a_made_up_or_replayed_state_is_refused(env: Env) -> None:
    code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
    assert codes(await complete(env, "bank", code, "made-up-state")) == ["SSO_STATE_INVALID"]
    assert (await complete(env, "bank", code, state))["token"] is not None
    assert codes(await complete(env, "bank", code, state)) == ["SSO_STATE_INVALID"]


async def test_a_replayed_code_is_refused_by_the_provider(env: Env) -> None:
    code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
    assert (await complete(env, "bank", code, state))["token"] is not None
    _, fresh_state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
    assert codes(await complete(env, "bank", code, fresh_state)) == ["SSO_TOKEN_INVALID"]


async def test_twenty_parallel_completes_of_one_state_make_one_session(env: Env) -> None:
    code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
    tokens = await count(env, AuthToken)
    answers = await asyncio.gather(*(complete(env, "bank", code, state) for _ in range(20)))
    made = [answer["token"] for answer in answers if answer["token"]]
    assert len(made) == 1
    assert (
        sorted(code for answer in answers for code in codes(answer)) == ["SSO_STATE_INVALID"] * 19
    )
    assert await count(env, AuthToken) == tokens + 1


async def test_a_rotated_key_is_fetched_and_accepted(env: Env) -> None:
    assert (await sign_in(env, "bank", DEMO_LINKED_SUBJECT))["token"] is not None  # cached
    async with httpx.AsyncClient() as http:
        rotated = await http.post(f"{env.idp_url}/bank/sandbox/rotate")
        published = (await http.get(f"{env.idp_url}/bank/jwks")).json()
    assert [key["kid"] for key in published["keys"]] == [rotated.json()["kid"]]
    done = await sign_in(env, "bank", DEMO_LINKED_SUBJECT)
    assert done["errors"] == [] and done["token"] is not None


# ---- staff ---------------------------------------------------------------------------------------


async def test_staff_roles_follow_the_group_claim_and_its_removal_ends_the_sessions(
    env: Env,
) -> None:
    first = await sign_in(env, "staff", "emp-103")  # finanse@, by e-mail on the first sign-in
    assert first["errors"] == []
    assert (await who(env, first["token"]))["staffRole"] == "FINANCE"  # type: ignore[index]
    await groups(env, "emp-103", ["leasehub-audit"])
    second = await sign_in(env, "staff", "emp-103")
    assert (await who(env, second["token"]))["staffRole"] == "AUDITOR"  # type: ignore[index]
    assert (await who(env, first["token"]))["staffRole"] == "AUDITOR"  # type: ignore[index]
    await groups(env, "emp-103", [])
    refused = await sign_in(env, "staff", "emp-103")
    assert refused["token"] is None and codes(refused) == ["SSO_NO_ROLE"]
    assert await who(env, first["token"]) is None
    assert await who(env, second["token"]) is None
    assert (await _user(env, "finanse@demo.leasehub.pl")).staff_role is None
    await groups(env, "emp-103", ["leasehub-finance"])
    back = await sign_in(env, "staff", "emp-103")  # found by its link now
    assert (await who(env, back["token"]))["staffRole"] == "FINANCE"  # type: ignore[index]


async def test_a_person_in_no_mapped_group_is_refused_and_nothing_is_created(env: Env) -> None:
    users, links = await count(env, User), await count(env, LinkedIdentity)
    done = await sign_in(env, "staff", "emp-105")
    assert done["token"] is None and codes(done) == ["SSO_NO_ROLE"]
    assert (await count(env, User), await count(env, LinkedIdentity)) == (users, links)


async def test_a_staff_session_through_the_provider_is_short(env: Env) -> None:
    done = await sign_in(env, "staff", "emp-101")
    assert env.hub.settings is not None
    async with env.db.read() as session:
        newest = (
            (await session.execute(select(AuthToken).order_by(col(AuthToken.id).desc()).limit(1)))
            .scalars()
            .one()
        )
    assert done["token"] is not None
    minutes = env.hub.settings.sso_staff_session_minutes
    assert newest.expires_at is not None
    assert newest.expires_at - newest.created_at <= timedelta(minutes=minutes, seconds=5)


async def test_the_back_channel_logout_ends_the_sessions_made_through_the_provider(
    env: Env,
) -> None:
    through = [(await sign_in(env, "staff", "emp-102"))["token"] for _ in range(2)]
    password = await password_login(env, "opony@demo.leasehub.pl", DEMO_PASSWORD)
    assert None not in [await who(env, token) for token in (*through, password)]
    async with httpx.AsyncClient() as http:
        sent = await http.post(
            f"{env.idp_url}/staff/sandbox/backchannel-logout", json={"subject": "emp-102"}
        )
    assert sent.json() == {"hub_status": 200}
    assert [await who(env, token) for token in through] == [None, None]
    assert await who(env, password) is not None  # not made through the provider


async def test_a_forged_logout_token_is_refused_and_ends_nothing(env: Env) -> None:
    token = (await sign_in(env, "staff", "emp-104"))["token"]
    await switches(env, "staff", signature=True)
    try:
        async with httpx.AsyncClient() as http:
            sent = await http.post(
                f"{env.idp_url}/staff/sandbox/backchannel-logout", json={"subject": "emp-104"}
            )
            garbage = await http.post(
                f"{env.hub_url}/sso/staff/backchannel-logout", data={"logout_token": "x.y.z"}
            )
    finally:
        await switches(env, "staff")
    assert sent.json() == {"hub_status": 400}
    assert garbage.status_code == 400
    assert await who(env, token) is not None


async def test_staff_password_sign_in_can_be_switched_off(env: Env) -> None:
    hub, db = await open_hub(env.url, LEASEHUB_STAFF_PASSWORD_LOGIN=False)
    try:
        staff = await hub.gql(
            "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) "
            "{ token errors { code } } }",
            {"l": "audyt@demo.leasehub.pl", "p": DEMO_PASSWORD},
        )
        client = await hub.gql(
            "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) "
            "{ token errors { code } } }",
            {"l": DEMO_SUB_EMAIL, "p": DEMO_PASSWORD},
        )
    finally:
        await hub.close()
        await db.dispose()
    assert staff["data"]["login"] == {
        "token": None,
        "errors": [{"code": "STAFF_PASSWORD_LOGIN_OFF"}],
    }
    assert client["data"]["login"]["token"] is not None


# ---- linking, unlinking --------------------------------------------------------------------------


async def _audited(env: Env, action: str) -> list[AuditEvent]:
    async with env.db.read() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == action)
        return list((await session.execute(query)).scalars())


async def _mails(env: Env, template: str, to: str = DEMO_SUB_EMAIL) -> int:
    async with env.db.read() as session:
        query = select(OutboxMessage).where(
            col(OutboxMessage.template) == template, col(OutboxMessage.recipient) == to
        )
        return len(list((await session.execute(query)).scalars()))


async def test_linking_then_unlinking_is_audited_emailed_and_ends_the_linked_sessions(
    env: Env,
) -> None:
    jan = await password_login(env, DEMO_SUB_EMAIL, DEMO_PASSWORD)
    code, state = await walk(env, "bank", "ing-7002", purpose="LINK", token=jan)
    body = await env.hub.gql(
        LINK, {"input": {"provider": "bank", "code": code, "state": state}}, token=jan
    )
    linked = body["data"]["ssoLink"]
    assert linked["errors"] == []
    assert linked["linkedIdentity"]["subject"] == "ing-7002"
    assert await _mails(env, "sso_linked") == 1
    assert [e.object_type for e in await _audited(env, "ssoLink")].count("linked_identities") == 1
    through = (await sign_in(env, "bank", "ing-7002"))["token"]
    assert (await who(env, through))["user"]["email"] == DEMO_SUB_EMAIL  # type: ignore[index]

    body = await env.hub.gql(UNLINK, {"input": {"provider": "bank"}}, token=jan)
    assert body["data"]["ssoUnlink"]["errors"] == []
    assert await who(env, through) is None
    jan_now = await who(env, jan)
    assert jan_now is not None and jan_now["linkedIdentities"] == []
    assert await _mails(env, "sso_unlinked") == 1
    assert "linked_identities" in {e.object_type for e in await _audited(env, "ssoUnlink")}
    assert codes(await sign_in(env, "bank", "ing-7002")) == ["SSO_NOT_LINKED"]


async def test_an_identity_linked_to_someone_else_cannot_be_linked_again(env: Env) -> None:
    jan = await password_login(env, DEMO_SUB_EMAIL, DEMO_PASSWORD)
    code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT, purpose="LINK", token=jan)
    body = await env.hub.gql(
        LINK, {"input": {"provider": "bank", "code": code, "state": state}}, token=jan
    )
    assert codes(body["data"]["ssoLink"]) == ["SSO_ALREADY_LINKED"]


async def test_a_link_state_is_only_the_starters(env: Env) -> None:
    jan = await password_login(env, DEMO_SUB_EMAIL, DEMO_PASSWORD)
    anna = await password_login(env, DEMO_MAIN_EMAIL, DEMO_PASSWORD)
    code, state = await walk(env, "bank", "ing-7002", purpose="LINK", token=jan)
    body = await env.hub.gql(
        LINK, {"input": {"provider": "bank", "code": code, "state": state}}, token=anna
    )
    assert codes(body["data"]["ssoLink"]) == ["SSO_STATE_INVALID"]


# ---- the second factor ---------------------------------------------------------------------------


async def test_the_providers_mfa_skips_the_hubs_second_factor_and_its_absence_asks_for_it(
    env: Env,
) -> None:
    assert env.hub.settings is not None
    secret = totp.new_secret()
    anna = await _user(env, DEMO_MAIN_EMAIL)
    await _second_factor(env, anna.id, totp.encrypt(env.hub.settings.secret_key, secret))
    try:
        assert (await sign_in(env, "bank", DEMO_LINKED_SUBJECT))["token"] is not None  # amr mfa
        await switches(env, "bank", mfa=False)
        code, state = await walk(env, "bank", DEMO_LINKED_SUBJECT)
        asked = await complete(env, "bank", code, state)
        assert asked["token"] is None and codes(asked) == ["SECOND_FACTOR_REQUIRED"]
        wrong = await complete(env, "bank", "", state, otp="000000")
        assert codes(wrong) == ["INVALID_SECOND_FACTOR"]
        done = await complete(env, "bank", "", state, otp=pyotp.TOTP(secret).now())
        assert done["errors"] == [] and done["token"] is not None
        again = await complete(env, "bank", "", state, otp=pyotp.TOTP(secret).now())
        assert codes(again) == ["SSO_STATE_INVALID"]
    finally:
        await switches(env, "bank")
        await _second_factor(env, anna.id, None)


async def _second_factor(env: Env, user_id: int | None, encrypted: str | None) -> None:
    async with env.db.write() as session:
        user = await session.get(User, user_id)
        assert user is not None
        user.totp_secret = encrypted
        user.totp_enabled_at = utcnow() if encrypted else None
        user.totp_last_step = None


# ---- the sandbox itself --------------------------------------------------------------------------


async def test_the_sandbox_requires_pkce_and_the_client_secret(env: Env) -> None:
    started = await start(env, "bank")
    url = started["authorizationUrl"].replace("code_challenge_method=S256", "")
    async with httpx.AsyncClient() as http:
        without = await http.get(f"{url}&login={DEMO_LINKED_SUBJECT}")
        page = await http.get(started["authorizationUrl"])
        token = await http.post(
            f"{env.idp_url}/bank/token",
            data={"grant_type": "authorization_code", "code": "x"},
            auth=("leasehub-bank", "wrong"),
        )
    assert without.status_code == 400
    assert page.status_code == 200 and "Anna" in page.text and "ing-7002" in page.text
    assert token.status_code == 401
    code, state = await authorize(started["authorizationUrl"], "ing-7002")
    assert code and state


def test_the_sandbox_is_a_leasehub_command() -> None:
    args = build_parser().parse_args(["idp-sandbox", "--port", "8191"])
    assert args.port == 8191
    link = build_parser().parse_args(["sso-link", "bank", "ing-9", "a@b.pl"])
    assert (link.provider, link.subject, link.email) == ("bank", "ing-9", "a@b.pl")


def test_a_staff_role_map_names_known_roles_only() -> None:
    from auth.sso import parse_providers

    with pytest.raises(ValueError, match="roles"):
        parse_providers(
            '[{"name": "staff", "issuer": "https://idp", "client_id": "a", '
            '"client_secret": "b", "audience": "staff", "roles": {"g": "KING"}}]'
        )
    parsed = parse_providers(
        '[{"name": "staff", "issuer": "https://idp/", "client_id": "a", '
        '"client_secret": "b", "audience": "staff", "roles": {"g": "ADMIN"}}]'
    )
    assert parsed["staff"].issuer == "https://idp/"  # compared exactly as configured
    assert parsed["staff"].role_of({"groups": ["x", "g"]}) is StaffRole.ADMIN
