"""Every cap holds when many requests race for it: each is counted in the database first.

Each test fires 20–40 requests at once through the ASGI app and checks that no more than the
cap were evaluated (by the answers, by the database and, for passwords, by counting argon2
verifications), that no answer is a masked "Unexpected error." or "database is locked", and
that what the cap killed stays dead.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import func, select

from auth import passwords
from hub.demo import DEMO_PASSWORD
from models.identity import CodePurpose, OneTimeCode, User
from models.outbox import Channel, OutboxMessage
from tests.auth.helpers import (
    errors_of,
    fresh_ip,
    last_message,
    new_main_account,
    secret_in,
    token_of,
)
from tests.auth.test_account_flows import (
    CAPTCHA,
    CHANGE,
    CONFIRM,
    FIRST_CONFIRM,
    FIRST_START,
    NEW_PASSWORD,
    RESET,
    RESET_DONE,
    START,
)
from tests.auth.test_second_factor import CONFIRM as TOTP_CONFIRM
from tests.auth.test_second_factor import LOGIN_OTP
from tests.auth.test_second_factor import START as TOTP_START
from tests.conftest import CAPTCHA_TEXT, LOGIN, Hub

LOGIN_CAPTCHA = """mutation($l: String!, $p: String!, $id: String, $a: String) {
  login(input: {login: $l, password: $p, captchaId: $id, captchaAnswer: $a}) {
    token errors { field code } } }"""
CHANGE_CAPTCHA = """mutation($c: String!, $n: String!, $id: String, $a: String) {
  passwordChange(input: {currentPassword: $c, newPassword: $n, captchaId: $id,
                         captchaAnswer: $a}) { errors { field code } } }"""


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password the hub verifies with argon2 while the test runs."""
    seen: list[str] = []
    real = passwords.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        seen.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    yield seen


async def captcha_id(hub: Hub) -> str:
    return (await hub.gql(CAPTCHA))["data"]["captchaCreate"]["captchaId"]  # type: ignore[no-any-return]


def first_codes(answers: list[list[dict[str, Any]]]) -> Counter[str | None]:
    return Counter(errors[0]["code"] if errors else None for errors in answers)


async def code_row(hub: Hub, user: User, purpose: CodePurpose) -> OneTimeCode:
    async with hub.db.read() as session:
        query = (
            select(OneTimeCode)
            .where(OneTimeCode.user_id == user.id, OneTimeCode.purpose == purpose)
            .order_by(OneTimeCode.id.desc())  # type: ignore[union-attr]
        )
        return (await session.execute(query)).scalars().first()  # type: ignore[return-value]


async def password_hash_of(hub: Hub, user: User) -> str | None:
    async with hub.db.read() as session:
        return (await session.get(User, user.id)).password_hash  # type: ignore[union-attr]


def wrong_codes(code: str, n: int) -> list[str]:
    return [f"{(int(code) + i) % 10**6:06d}" for i in range(1, n + 1)]


async def test_parallel_wrong_sms_codes_never_outrun_the_cap(flows: Hub) -> None:
    user, _ = await new_main_account(flows, password=None)
    assert await errors_of(flows, START, {"e": user.email}, ip=fresh_ip()) == []
    code = secret_in(await last_message(flows, user.phone or "", Channel.SMS))
    answers = await asyncio.gather(
        *(errors_of(flows, CONFIRM, {"e": user.email, "c": c}) for c in wrong_codes(code, 20))
    )
    # Exactly five were compared: four wrong, the fifth killed the code; the rest found none.
    assert first_codes(answers) == {"INVALID_CODE": 4, "TOO_MANY_ATTEMPTS": 1, "CODE_EXPIRED": 15}
    row = await code_row(flows, user, CodePurpose.ACTIVATION_SMS)
    assert row.attempts == row.max_attempts == 5 and row.revoked_at is not None
    late = await errors_of(flows, CONFIRM, {"e": user.email, "c": code})
    assert late == [{"field": "code", "code": "CODE_EXPIRED"}]


async def test_parallel_wrong_pins_never_outrun_the_cap(flows: Hub) -> None:
    user, number = await new_main_account(flows, password=None)
    variables = {"n": number, "p": NEW_PASSWORD}
    assert await errors_of(flows, FIRST_START, variables, ip=fresh_ip()) == []
    pin = secret_in(await last_message(flows, f"faktury.{number}@proba.pl", Channel.EMAIL))
    answers = await asyncio.gather(
        *(errors_of(flows, FIRST_CONFIRM, {"n": number, "pin": p}) for p in wrong_codes(pin, 20))
    )
    assert first_codes(answers) == {"INVALID_CODE": 4, "TOO_MANY_ATTEMPTS": 1, "CODE_EXPIRED": 15}
    assert (await code_row(flows, user, CodePurpose.FIRST_LOGIN_PIN)).attempts == 5
    late = await errors_of(flows, FIRST_CONFIRM, {"n": number, "pin": pin})
    assert late == [{"field": "pin", "code": "CODE_EXPIRED"}]
    assert await password_hash_of(flows, user) is None


async def test_a_link_sets_a_password_once_however_many_race_for_it(flows: Hub) -> None:
    user, _ = await new_main_account(flows)
    variables = {
        "l": user.email,
        "e": user.email,
        "e2": user.email,
        "id": await captcha_id(flows),
        "a": CAPTCHA_TEXT,
    }
    assert await errors_of(flows, RESET, variables, ip=fresh_ip()) == []
    link = secret_in(await last_message(flows, user.email, Channel.EMAIL))
    candidates = [f"Nowe#Haslo{i:02d}" for i in range(20)]
    answers = await asyncio.gather(
        *(errors_of(flows, RESET_DONE, {"t": link, "p": p}) for p in candidates)
    )
    assert first_codes(answers) == {None: 1, "INVALID_LINK": 19}
    winner = candidates[answers.index([])]
    loser = candidates[(answers.index([]) + 1) % len(candidates)]
    assert await token_of(flows, user.email, winner)
    assert not await token_of(flows, user.email, loser)
    async with flows.db.read() as session:
        notices = await session.execute(
            select(func.count()).where(
                OutboxMessage.user_id == user.id, OutboxMessage.template == "password_changed"
            )
        )
    assert notices.scalar_one() == 1


async def test_parallel_wrong_passwords_for_one_account_stop_at_the_cap(
    flows: Hub, verified: list[str]
) -> None:
    user, number = await new_main_account(flows)
    guesses = [f"Guess#{i:02d}xyz" for i in range(20)]
    answers = await asyncio.gather(
        *(
            errors_of(flows, LOGIN, {"login": login, "password": guess}, ip=fresh_ip())
            for login, guess in zip([user.email, number] * 10, guesses, strict=True)
        )
    )
    assert first_codes(answers) == {"INVALID_CREDENTIALS": 5, "CAPTCHA_REQUIRED": 15}
    assert len(verified) == 5  # past the cap the password is not even checked
    right = {"l": user.email, "p": DEMO_PASSWORD, "id": None, "a": None}
    refused = await errors_of(flows, LOGIN_CAPTCHA, right, ip=fresh_ip())
    assert refused == [{"field": "captchaAnswer", "code": "CAPTCHA_REQUIRED"}]
    solved = right | {"id": await captcha_id(flows), "a": CAPTCHA_TEXT}
    body = await flows.gql(LOGIN_CAPTCHA, solved, ip=fresh_ip())
    assert body["data"]["login"]["token"] and body["data"]["login"]["errors"] == []


async def test_parallel_failures_from_one_ip_stop_at_its_cap_and_a_captcha_gets_through(
    flows: Hub, verified: list[str]
) -> None:
    ip = fresh_ip()
    answers = await asyncio.gather(
        *(
            errors_of(flows, LOGIN, {"login": f"ghost{i}@proba.pl", "password": "Bad#pass1"}, ip=ip)
            for i in range(40)
        )
    )
    assert first_codes(answers) == {"INVALID_CREDENTIALS": 30, "TOO_MANY_ATTEMPTS": 10}
    assert len(verified) == 30
    user, _ = await new_main_account(flows)
    right = {"l": user.email, "p": DEMO_PASSWORD, "id": None, "a": None}
    waiting = await errors_of(flows, LOGIN_CAPTCHA, right, ip=ip)
    assert [e["code"] for e in waiting] == ["TOO_MANY_ATTEMPTS"]
    # The office behind one address is not locked out: a solved captcha lets the owner in.
    solved = right | {"id": await captcha_id(flows), "a": CAPTCHA_TEXT}
    body = await flows.gql(LOGIN_CAPTCHA, solved, ip=ip)
    assert body["data"]["login"]["token"] and body["data"]["login"]["errors"] == []
    wrong = {"l": user.email, "p": "Bad#pass1", "id": await captcha_id(flows), "a": "WRONG"}
    assert [e["code"] for e in await errors_of(flows, LOGIN_CAPTCHA, wrong, ip=ip)] == [
        "TOO_MANY_ATTEMPTS"
    ]


async def test_one_solved_captcha_passes_one_of_many_parallel_requests(flows: Hub) -> None:
    solved = await captcha_id(flows)
    address = f"nikt.{fresh_ip()}@proba.pl"
    variables = {"l": address, "e": address, "e2": address, "id": solved, "a": CAPTCHA_TEXT}
    answers = await asyncio.gather(
        *(errors_of(flows, RESET, variables, ip=fresh_ip()) for _ in range(20))
    )
    assert first_codes(answers) == {"ACCOUNT_NOT_FOUND": 1, "CAPTCHA_INVALID": 19}


async def test_parallel_wrong_current_passwords_stop_at_the_cap(
    flows: Hub, verified: list[str]
) -> None:
    user, _ = await new_main_account(flows)
    session = await token_of(flows, user.email)
    verified.clear()
    answers = await asyncio.gather(
        *(
            errors_of(flows, CHANGE, {"c": f"Guess#{i:02d}xyz", "n": NEW_PASSWORD}, token=session)
            for i in range(20)
        )
    )
    assert first_codes(answers) == {"INVALID_PASSWORD": 5, "CAPTCHA_REQUIRED": 15}
    assert len(verified) == 5
    right = {"c": DEMO_PASSWORD, "n": NEW_PASSWORD, "id": None, "a": None}
    assert [e["code"] for e in await errors_of(flows, CHANGE_CAPTCHA, right, token=session)] == [
        "CAPTCHA_REQUIRED"
    ]
    solved = right | {"id": await captcha_id(flows), "a": CAPTCHA_TEXT}
    assert await errors_of(flows, CHANGE_CAPTCHA, solved, token=session) == []
    assert await token_of(flows, user.email, NEW_PASSWORD)


async def test_a_recovery_code_signs_in_once_however_many_race_for_it(flows: Hub) -> None:
    user, _ = await new_main_account(flows)
    session = await token_of(flows, user.email)
    started = await flows.gql(TOTP_START, {"p": DEMO_PASSWORD}, token=session)
    uri = started["data"]["totpSetupStart"]["otpauthUri"]
    now = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0]).now()
    confirmed = await flows.gql(TOTP_CONFIRM, {"c": now}, token=session)
    recovery = confirmed["data"]["totpSetupConfirm"]["recoveryCodes"][0]
    variables = {"l": user.email, "p": DEMO_PASSWORD, "o": recovery}
    bodies = await asyncio.gather(
        *(flows.gql(LOGIN_OTP, variables, ip=fresh_ip()) for _ in range(20))
    )
    assert all("errors" not in body for body in bodies), bodies
    assert sum(1 for body in bodies if body["data"]["login"]["token"]) == 1


async def test_a_sqlite_write_transaction_holds_the_lock_from_its_first_read(flows: Hub) -> None:
    """BEGIN IMMEDIATE: a unit of work reads and writes under one lock, so a writer that comes in
    between waits (busy timeout) instead of slipping in, and no update is lost."""
    assert flows.settings is not None
    if not flows.settings.is_sqlite:
        pytest.skip("SQLite's locking; PostgreSQL flows use conditional updates")
    user, _ = await new_main_account(flows)
    first_read = asyncio.Event()

    async def append(suffix: str, *, signal: asyncio.Event | None = None) -> None:
        async with flows.db.write() as session:
            row = await session.get(User, user.id)
            assert row is not None
            if signal is not None:
                signal.set()
                await asyncio.wait({other}, timeout=0.5)  # room for the other one to slip in
            row.last_name += suffix

    async def later() -> None:
        await first_read.wait()
        await append("-b")

    other = asyncio.create_task(later())
    await append("-a", signal=first_read)
    await other
    async with flows.db.read() as session:
        stored = await session.get(User, user.id)
    assert stored is not None and stored.last_name == "Wiśniewska-a-b"


async def test_parallel_right_logins_from_one_office_all_sign_in(flows: Hub) -> None:
    """Counter rows are locked in one order (IP, then account): no deadlock between logins."""
    ip = fresh_ip()
    accounts = [await new_main_account(flows) for _ in range(4)]
    # Four at once per account: within its cap of five, since attempts count before the check.
    logins = [login for user, number in accounts for login in (user.email, number)] * 2
    bodies = await asyncio.gather(
        *(flows.gql(LOGIN, {"login": login, "password": DEMO_PASSWORD}, ip=ip) for login in logins)
    )
    assert all("errors" not in body for body in bodies), [b for b in bodies if "errors" in b]
    assert [body["data"]["login"]["errors"] for body in bodies] == [[]] * len(logins)
