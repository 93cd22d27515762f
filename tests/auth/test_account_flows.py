"""Activation, first login, reset and change: happy paths and the attacks people try."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD
from models.client import Client
from models.identity import Membership, User
from models.outbox import Channel
from tests.auth.helpers import (
    errors_of,
    fresh_ip,
    inactive_user,
    last_message,
    secret_in,
    user_with_password,
)
from tests.conftest import CAPTCHA_TEXT, LOGIN, Hub
from tests.schema.helpers import error_codes

NEW_PASSWORD = "Zielone#Jabłko7"

START = "mutation($e: String!) { activationStart(input: {email: $e}) { errors { field code } } }"
CONFIRM = """mutation($e: String!, $c: String!) {
  activationConfirmCode(input: {email: $e, code: $c}) { errors { field code } } }"""
COMPLETE = """mutation($t: String!, $p: String!) {
  activationComplete(input: {token: $t, password: $p}) { errors { field code message } } }"""
FIRST_START = """mutation($n: String!, $p: String!) {
  firstLoginStart(input: {clientNumber: $n, password: $p}) { errors { field code } } }"""
FIRST_CONFIRM = """mutation($n: String!, $pin: String!) {
  firstLoginConfirm(input: {clientNumber: $n, pin: $pin}) { errors { field code } } }"""
CAPTCHA = "mutation { captchaCreate { captchaId image } }"
RESET = """mutation($l: String!, $e: String!, $e2: String!, $id: String!, $a: String!) {
  passwordResetRequest(input: {login: $l, email: $e, emailConfirmation: $e2, captchaId: $id,
                               captchaAnswer: $a}) { errors { field code message } } }"""
RESET_DONE = """mutation($t: String!, $p: String!) {
  passwordResetComplete(input: {token: $t, password: $p}) { errors { field code } } }"""
CHANGE = """mutation($c: String!, $n: String!) {
  passwordChange(input: {currentPassword: $c, newPassword: $n}) { errors { field code } } }"""


async def password_hash_of(hub: Hub, user_id: int) -> str | None:
    async with hub.db.read() as session:
        return (await session.get(User, user_id)).password_hash  # type: ignore[union-attr]


async def sms_code(hub: Hub, user: User) -> str:
    assert await errors_of(hub, START, {"e": user.email}, ip=fresh_ip()) == []
    return secret_in(await last_message(hub, user.phone or "", Channel.SMS))


async def test_activation_goes_sms_code_then_link_then_password(
    flows: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("leasehub", "strawberry", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=name)
    user = await inactive_user(flows, 0)
    start = await flows.gql(START, {"e": user.email.upper()}, ip=fresh_ip())
    code = secret_in(await last_message(flows, user.phone or "", Channel.SMS))
    confirm = await flows.gql(CONFIRM, {"e": user.email, "c": code})
    token = secret_in(await last_message(flows, user.email, Channel.EMAIL))
    assert code not in json.dumps([start, confirm]) and token not in json.dumps(confirm)
    assert await errors_of(flows, COMPLETE, {"t": token, "p": NEW_PASSWORD}) == []
    login = await flows.gql(LOGIN, {"login": user.email, "password": NEW_PASSWORD})
    assert login["data"]["login"]["token"]
    assert await errors_of(flows, COMPLETE, {"t": token, "p": NEW_PASSWORD}) == [
        {
            "field": "token",
            "code": "INVALID_LINK",
            "message": "Ten link jest już nieważny: został użyty, wygasł albo zastąpiono go nowym.",
        }
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in logged and token not in logged


async def test_activation_steps_out_of_order_change_nothing(flows: Hub) -> None:
    user = await inactive_user(flows, 1)
    assert await errors_of(flows, CONFIRM, {"e": user.email, "c": "123456"}) == [
        {"field": "code", "code": "CODE_EXPIRED"}
    ]
    forged = await errors_of(flows, COMPLETE, {"t": "1.forged", "p": NEW_PASSWORD})
    assert [e["code"] for e in forged] == ["INVALID_LINK"]
    assert await password_hash_of(flows, user.id) is None  # type: ignore[arg-type]


async def test_wrong_codes_are_capped_and_the_code_dies(flows: Hub) -> None:
    user = await inactive_user(flows, 2)
    code = await sms_code(flows, user)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    results = [await errors_of(flows, CONFIRM, {"e": user.email, "c": wrong}) for _ in range(5)]
    assert [r[0]["code"] for r in results] == ["INVALID_CODE"] * 4 + ["TOO_MANY_ATTEMPTS"]
    dead = await errors_of(flows, CONFIRM, {"e": user.email, "c": code})
    assert dead == [{"field": "code", "code": "CODE_EXPIRED"}]


async def test_aliased_brute_force_of_a_code_in_one_request_is_capped(flows: Hub) -> None:
    user = await inactive_user(flows, 3)
    code = await sms_code(flows, user)
    guesses = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 8)] + [code]
    aliases = " ".join(
        f'g{i}: activationConfirmCode(input: {{email: "{user.email}", code: "{g}"}}) '
        "{ errors { code } }"
        for i, g in enumerate(guesses)
    )
    body = await flows.gql(f"mutation {{ {aliases} }}")
    codes = [body["data"][f"g{i}"]["errors"][0]["code"] for i in range(len(guesses))]
    assert codes[:5] == ["INVALID_CODE"] * 4 + ["TOO_MANY_ATTEMPTS"]
    assert set(codes[5:]) == {"CODE_EXPIRED"}  # the right code came too late
    assert await password_hash_of(flows, user.id) is None  # type: ignore[arg-type]


async def test_code_of_one_user_does_not_work_for_another(flows: Hub) -> None:
    first, second = await inactive_user(flows, 4), await inactive_user(flows, 5)
    code_a = await sms_code(flows, first)
    await sms_code(flows, second)
    errors = await errors_of(flows, CONFIRM, {"e": second.email, "c": code_a})
    assert errors == [{"field": "code", "code": "INVALID_CODE"}]


async def test_weak_password_is_refused_and_the_link_stays_usable(flows: Hub) -> None:
    user = await inactive_user(flows, 6)
    code = await sms_code(flows, user)
    await flows.gql(CONFIRM, {"e": user.email, "c": code})
    token = secret_in(await last_message(flows, user.email, Channel.EMAIL))
    weak = await errors_of(flows, COMPLETE, {"t": token, "p": f"{user.last_name}!2026"})
    assert [e["code"] for e in weak] == ["PASSWORD_CONTAINS_PERSONAL_DATA"]
    assert await errors_of(flows, COMPLETE, {"t": token, "p": NEW_PASSWORD}) == []


async def test_first_login_sets_the_password_after_the_emailed_pin(flows: Hub) -> None:
    user = await inactive_user(flows, 7)
    async with flows.db.read() as session:
        client = (
            (
                await session.execute(
                    select(Client)
                    .join(Membership, Membership.client_id == Client.id)
                    .where(Membership.user_id == user.id)
                )
            )
            .scalars()
            .one()
        )
    variables = {"n": client.number, "p": NEW_PASSWORD}
    assert await errors_of(flows, FIRST_START, variables, ip=fresh_ip()) == []
    pin_mail = await last_message(flows, client.einvoice_email, Channel.EMAIL)
    pin = secret_in(pin_mail)
    assert await password_hash_of(flows, user.id) is None  # type: ignore[arg-type]
    wrong_pin = f"{(int(pin) + 1) % 10**6:06d}"
    wrong = await errors_of(flows, FIRST_CONFIRM, {"n": client.number, "pin": wrong_pin})
    assert wrong == [{"field": "pin", "code": "INVALID_CODE"}]
    assert await errors_of(flows, FIRST_CONFIRM, {"n": client.number, "pin": pin}) == []
    login = await flows.gql(LOGIN, {"login": client.number, "password": NEW_PASSWORD})
    assert login["data"]["login"]["token"]
    replay = await errors_of(flows, FIRST_CONFIRM, {"n": client.number, "pin": pin})
    assert replay == [{"field": "pin", "code": "CODE_EXPIRED"}]


async def test_first_login_reports_password_rules_before_sending_a_pin(flows: Hub) -> None:
    errors = await errors_of(flows, FIRST_START, {"n": "100009", "p": "short"}, ip=fresh_ip())
    assert {e["code"] for e in errors} >= {"PASSWORD_TOO_SHORT", "PASSWORD_NO_DIGIT"}


async def _captcha(hub: Hub) -> str:
    body = await hub.gql(CAPTCHA)
    captcha = body["data"]["captchaCreate"]
    assert captcha["image"].startswith("data:image/png;base64,")
    assert CAPTCHA_TEXT not in json.dumps(body)
    return captcha["captchaId"]  # type: ignore[no-any-return]


async def test_reset_needs_matching_addresses_and_the_captcha(flows: Hub) -> None:
    ip = fresh_ip()
    variables = {
        "l": DEMO_MAIN_EMAIL,
        "e": DEMO_MAIN_EMAIL,
        "e2": "other@x.pl",
        "id": await _captcha(flows),
        "a": "WRONG",
    }
    errors = await errors_of(flows, RESET, variables, ip=ip)
    assert {(e["field"], e["code"]) for e in errors} == {
        ("emailConfirmation", "EMAIL_MISMATCH"),
        ("captchaAnswer", "CAPTCHA_INVALID"),
    }


async def test_reset_of_unknown_address_shows_the_portal_message(flows: Hub) -> None:
    variables = {
        "l": "nobody@firma.pl",
        "e": "nobody@firma.pl",
        "e2": "nobody@firma.pl",
        "id": await _captcha(flows),
        "a": CAPTCHA_TEXT.lower(),
    }
    errors = await errors_of(flows, RESET, variables, ip=fresh_ip())
    assert errors[0]["code"] == "ACCOUNT_NOT_FOUND"
    assert errors[0]["message"].startswith("Nie możemy znaleźć konta z podanym adresem email")


async def test_captcha_cannot_be_replayed(flows: Hub) -> None:
    captcha = await _captcha(flows)
    variables = {"l": "a@b.pl", "e": "a@b.pl", "e2": "a@b.pl", "id": captcha, "a": CAPTCHA_TEXT}
    first = await errors_of(flows, RESET, variables, ip=fresh_ip())
    second = await errors_of(flows, RESET, variables, ip=fresh_ip())
    assert first[0]["code"] == "ACCOUNT_NOT_FOUND" and second[0]["code"] == "CAPTCHA_INVALID"


async def test_reset_is_throttled_per_address_and_per_ip(flows: Hub) -> None:
    async def attempt(address: str, ip: str) -> str | None:
        variables = {
            "l": address,
            "e": address,
            "e2": address,
            "id": await _captcha(flows),
            "a": CAPTCHA_TEXT,
        }
        errors = await errors_of(flows, RESET, variables, ip=ip)
        return errors[0]["code"] if errors else None

    per_address = [await attempt("sweep@firma.pl", fresh_ip()) for _ in range(4)]
    assert per_address == ["ACCOUNT_NOT_FOUND"] * 3 + ["THROTTLED"]
    ip = fresh_ip()
    per_ip = [await attempt(f"sweep{i}@firma.pl", ip) for i in range(11)]
    assert per_ip[:10] == ["ACCOUNT_NOT_FOUND"] * 10 and per_ip[10] == "THROTTLED"


async def test_reset_link_sets_password_ends_sessions_and_notifies(flows: Hub) -> None:
    email = "staff@demo.leasehub.pl"
    old = (await flows.gql(LOGIN, {"login": email, "password": DEMO_PASSWORD}))["data"]["login"]
    variables = {
        "l": email,
        "e": email,
        "e2": email,
        "id": await _captcha(flows),
        "a": CAPTCHA_TEXT,
    }
    assert await errors_of(flows, RESET, variables, ip=fresh_ip()) == []
    token = secret_in(await last_message(flows, email, Channel.EMAIL))
    assert await errors_of(flows, RESET_DONE, {"t": token, "p": NEW_PASSWORD}) == []
    assert (await flows.gql("{ viewer { isStaff } }", token=old["token"]))["data"] == {
        "viewer": None
    }
    notice = await last_message(flows, email, Channel.EMAIL)
    assert notice.template == "password_changed"
    assert [
        e["code"] for e in await errors_of(flows, RESET_DONE, {"t": token, "p": "X#1abcdefg"})
    ] == ["INVALID_LINK"]


async def test_password_change_keeps_this_session_and_ends_the_others(flows: Hub) -> None:
    user, _ = await user_with_password(flows, 8)
    login = {"login": user.email, "password": DEMO_PASSWORD}
    this = (await flows.gql(LOGIN, login))["data"]["login"]["token"]
    other = (await flows.gql(LOGIN, login))["data"]["login"]["token"]
    wrong = await errors_of(flows, CHANGE, {"c": "nope", "n": NEW_PASSWORD}, token=this)
    assert wrong == [{"field": "currentPassword", "code": "INVALID_PASSWORD"}]
    assert await errors_of(flows, CHANGE, {"c": DEMO_PASSWORD, "n": NEW_PASSWORD}, token=this) == []
    assert (await flows.gql("{ viewer { isStaff } }", token=this))["data"]["viewer"]
    assert (await flows.gql("{ viewer { isStaff } }", token=other))["data"] == {"viewer": None}
    anonymous = await flows.gql(CHANGE, {"c": "a", "n": "b"})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_failed_logins_ask_for_a_captcha_the_same_way_for_any_login(flows: Hub) -> None:
    async def codes_for(login: str, password: str, n: int) -> list[str | None]:
        result = []
        for _ in range(n):
            body = await flows.gql(LOGIN, {"login": login, "password": password}, ip=fresh_ip())
            errors = body["data"]["login"]["errors"]
            result.append(errors[0]["code"] if errors else None)
        return result

    user, _ = await user_with_password(flows, 9)
    known = await codes_for(user.email, "Wrong#2026a", 6)
    unknown = await codes_for("ghost@demo.leasehub.pl", "Wrong#2026a", 6)
    assert known == unknown == ["INVALID_CREDENTIALS"] * 5 + ["CAPTCHA_REQUIRED"]
    right = await codes_for(user.email, DEMO_PASSWORD, 1)
    assert right == ["CAPTCHA_REQUIRED"]  # the owner is asked for a captcha, not locked out
    body = await flows.gql(
        """mutation($l: String!, $p: String!, $id: String!, $a: String!) {
             login(input: {login: $l, password: $p, captchaId: $id, captchaAnswer: $a}) {
               token errors { code } } }""",
        {
            "l": user.email.upper(),
            "p": DEMO_PASSWORD,
            "id": await _captcha(flows),
            "a": CAPTCHA_TEXT,
        },
        ip=fresh_ip(),
    )
    assert body["data"]["login"]["token"] and body["data"]["login"]["errors"] == []


async def test_aliased_login_brute_force_in_one_request_hits_the_captcha(flows: Hub) -> None:
    _, number = await user_with_password(flows, 10)
    guesses = [f"Guess#{i}aaaa" for i in range(8)] + [DEMO_PASSWORD]
    aliases = " ".join(
        f'a{i}: login(input: {{login: "{number}", password: "{p}"}}) {{ token errors {{ code }} }}'
        for i, p in enumerate(guesses)
    )
    body = await flows.gql(f"mutation {{ {aliases} }}", ip=fresh_ip())
    results = [body["data"][f"a{i}"] for i in range(len(guesses))]
    assert all(r["token"] is None for r in results)
    assert [r["errors"][0]["code"] for r in results][-1] == "CAPTCHA_REQUIRED"


async def test_too_many_failures_from_one_ip_ask_to_wait(flows: Hub) -> None:
    ip = fresh_ip()
    codes = []
    for i in range(31):
        body = await flows.gql(LOGIN, {"login": f"user{i}@x.pl", "password": "Bad#pass1"}, ip=ip)
        codes.append(body["data"]["login"]["errors"][0]["code"])
    assert codes[:30] == ["INVALID_CREDENTIALS"] * 30 and codes[30] == "TOO_MANY_ATTEMPTS"


async def test_code_checked_after_its_midnight_is_expired(flows: Hub) -> None:
    from datetime import UTC, datetime, timedelta

    from auth import codes
    from auth.clock import warsaw_midnight_after
    from models.identity import CodePurpose

    user = await inactive_user(flows, 5)
    issued_at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    midnight = warsaw_midnight_after(issued_at)
    async with flows.db.write() as session:
        await codes.issue(
            session,
            secret_key="k",
            user_id=user.id,
            purpose=CodePurpose.ACTIVATION_SMS,  # type: ignore[arg-type]
            secret="246810",
            expires_at=midnight,
            now=issued_at,
        )
    async with flows.db.write() as session:
        late = await codes.check_code(
            session,
            secret_key="k",
            user_id=user.id,  # type: ignore[arg-type]
            purpose=CodePurpose.ACTIVATION_SMS,
            secret="246810",
            now=midnight + timedelta(seconds=1),
        )
        in_time = await codes.check_code(
            session,
            secret_key="k",
            user_id=user.id,  # type: ignore[arg-type]
            purpose=CodePurpose.ACTIVATION_SMS,
            secret="246810",
            now=midnight - timedelta(seconds=1),
        )
    assert late.reason == "CODE_EXPIRED" and in_time.code is not None


async def test_malformed_link_tokens_are_invalid_links_not_errors(flows: Hub) -> None:
    for token in ("²³.secret", "99999999999999.secret", "12", ".x", "١٢.secret"):
        errors = await errors_of(flows, RESET_DONE, {"t": token, "p": NEW_PASSWORD})
        assert [e["code"] for e in errors] == ["INVALID_LINK"], token
