"""Login by e-mail or client number, opaque hashed session tokens, logout."""

from __future__ import annotations

from sqlalchemy import select

from auth.tokens import hash_secret
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD
from models.identity import AuthToken
from tests.conftest import LOGIN, Hub
from tests.schema.helpers import error_codes

VIEWER = "{ viewer { user { email } } }"


async def test_login_by_email_in_any_case_returns_a_working_token(hub: Hub) -> None:
    body = await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL.upper(), "password": DEMO_PASSWORD})
    payload = body["data"]["login"]
    assert payload["errors"] == [] and payload["token"].startswith("lhs_")
    viewer = await hub.gql(VIEWER, token=payload["token"])
    assert viewer["data"]["viewer"]["user"]["email"] == DEMO_MAIN_EMAIL


async def test_login_by_client_number_reaches_the_main_account(hub: Hub) -> None:
    body = await hub.gql(LOGIN, {"login": "100001", "password": DEMO_PASSWORD})
    token = body["data"]["login"]["token"]
    viewer = await hub.gql(VIEWER, token=token)
    assert viewer["data"]["viewer"]["user"]["email"] == DEMO_MAIN_EMAIL


async def test_wrong_password_and_unknown_login_look_the_same(hub: Hub) -> None:
    wrong = await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": "Nope!2026x"})
    unknown = await hub.gql(LOGIN, {"login": "nobody@example.com", "password": "Nope!2026x"})
    assert wrong["data"]["login"] == unknown["data"]["login"]
    assert wrong["data"]["login"]["token"] is None
    assert wrong["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_empty_login_names_the_field(hub: Hub) -> None:
    body = await hub.gql(LOGIN, {"login": " ", "password": ""})
    errors = body["data"]["login"]["errors"]
    assert {(e["field"], e["code"]) for e in errors} == {
        ("login", "REQUIRED"),
        ("password", "REQUIRED"),
    }


async def test_token_is_stored_only_as_a_hash(hub: Hub) -> None:
    body = await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD})
    token = body["data"]["login"]["token"]
    async with hub.db.read() as session:
        hashes = set((await session.execute(select(AuthToken.token_hash))).scalars())
    assert hash_secret(token) in hashes and token not in hashes


async def test_logout_ends_the_session_and_the_token_cannot_be_replayed(hub: Hub) -> None:
    token = (await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD}))["data"][
        "login"
    ]["token"]
    assert (await hub.gql("mutation { logout { errors { code } } }", token=token))["data"] == {
        "logout": {"errors": []}
    }
    assert (await hub.gql(VIEWER, token=token))["data"] == {"viewer": None}
    replay = await hub.gql("mutation { logout { errors { code } } }", token=token)
    assert error_codes(replay) == ["UNAUTHENTICATED"]


async def test_unknown_input_field_is_rejected(hub: Hub) -> None:
    body = await hub.gql(
        'mutation { login(input: {login: "a", password: "b", admin: true}) { token } }'
    )
    assert body["data"] is None and "admin" in body["errors"][0]["message"]
