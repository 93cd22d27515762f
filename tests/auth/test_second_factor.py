"""TOTP second factor: enrolment, login with a code or a recovery code, no replays."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

import pyotp
from sqlalchemy import func, select

from hub.demo import DEMO_PASSWORD
from models.identity import RecoveryCode
from tests.auth.helpers import errors_of, fresh_ip, new_main_account, user_with_password
from tests.conftest import Hub

LOGIN_OTP = """mutation($l: String!, $p: String!, $o: String) {
  login(input: {login: $l, password: $p, otp: $o}) { token errors { field code } } }"""
START = """mutation($p: String!) { totpSetupStart(input: {password: $p}) {
  otpauthUri errors { field code } } }"""
CONFIRM = """mutation($c: String!) { totpSetupConfirm(input: {code: $c}) {
  recoveryCodes errors { field code } } }"""


async def login(hub: Hub, email: str, otp: str | None = None) -> dict:
    body = await hub.gql(LOGIN_OTP, {"l": email, "p": DEMO_PASSWORD, "o": otp}, ip=fresh_ip())
    return body["data"]["login"]  # type: ignore[no-any-return]


async def test_totp_enrolment_and_login_with_codes(flows: Hub) -> None:
    user, _ = await user_with_password(flows, 12)
    session = (await login(flows, user.email))["token"]
    wrong = await flows.gql(START, {"p": "Nope#2026x"}, token=session)
    assert wrong["data"]["totpSetupStart"]["errors"] == [
        {"field": "password", "code": "INVALID_PASSWORD"}
    ]
    uri = (await flows.gql(START, {"p": DEMO_PASSWORD}, token=session))["data"]["totpSetupStart"][
        "otpauthUri"
    ]
    assert uri.startswith("otpauth://totp/LeaseHub:")
    totp = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    assert (
        await flows.gql(
            CONFIRM, {"c": "000000" if totp.now() != "000000" else "111111"}, token=session
        )
    )["data"]["totpSetupConfirm"]["errors"][0]["code"] == "INVALID_SECOND_FACTOR"
    confirmed = (await flows.gql(CONFIRM, {"c": totp.now()}, token=session))["data"][
        "totpSetupConfirm"
    ]
    recovery = confirmed["recoveryCodes"]
    assert confirmed["errors"] == [] and len(recovery) == 10

    assert (await login(flows, user.email))["errors"] == [
        {"field": "otp", "code": "SECOND_FACTOR_REQUIRED"}
    ]
    replayed = await login(flows, user.email, totp.now())  # the confirming code is used up
    assert replayed["token"] is None
    assert replayed["errors"][0]["code"] == "INVALID_SECOND_FACTOR"
    with_recovery = await login(flows, user.email, recovery[0])
    assert with_recovery["token"] and with_recovery["errors"] == []
    again = await login(flows, user.email, recovery[0])
    assert again["token"] is None  # a recovery code works once

    disable = """mutation($p: String!, $o: String!) { totpDisable(input: {password: $p, otp: $o}) {
      errors { code } } }"""
    assert (
        await errors_of(
            flows, disable, {"p": DEMO_PASSWORD, "o": recovery[1]}, token=with_recovery["token"]
        )
        == []
    )
    assert (await login(flows, user.email))["token"]


async def test_parallel_confirmations_turn_the_factor_on_once(flows: Hub) -> None:
    """Twenty confirmations of one setup at once: one set of recovery codes, the others refused."""
    user, _ = await new_main_account(flows)
    session = (await login(flows, user.email))["token"]
    uri = (await flows.gql(START, {"p": DEMO_PASSWORD}, token=session))["data"]["totpSetupStart"][
        "otpauthUri"
    ]
    code = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0]).now()
    answers = await asyncio.gather(
        *(flows.gql(CONFIRM, {"c": code}, token=session) for _ in range(20))
    )
    confirmed = [a["data"]["totpSetupConfirm"] for a in answers]
    issued = [c["recoveryCodes"] for c in confirmed if c["recoveryCodes"]]
    assert len(issued) == 1 and len(issued[0]) == 10
    assert all(c["errors"] for c in confirmed if not c["recoveryCodes"])
    async with flows.db.read() as db_session:
        stored = await db_session.execute(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
        )
    assert stored.scalar_one() == 10
