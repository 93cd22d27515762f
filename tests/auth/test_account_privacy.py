"""What a signed-in user cannot learn or reuse: whether an address is taken, their own login
(in any of its forms) inside a password, and endless guesses of their password."""

from __future__ import annotations

from sqlalchemy import select

from hub.demo import DEMO_PASSWORD
from models.identity import CodePurpose, OneTimeCode, User
from models.outbox import Channel
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
    COMPLETE,
    CONFIRM,
    FIRST_START,
    NEW_PASSWORD,
    RESET,
    RESET_DONE,
    START,
)
from tests.conftest import CAPTCHA_TEXT, Hub

EMAIL_START = """mutation($e: String!, $p: String!) {
  emailChangeStart(input: {newEmail: $e, password: $p}) { errors { field code message } } }"""
TOTP_START = """mutation($p: String!, $id: String, $a: String) {
  totpSetupStart(input: {password: $p, captchaId: $id, captchaAnswer: $a}) {
    otpauthUri errors { field code } } }"""
PERSONAL = [{"field": "password", "code": "PASSWORD_CONTAINS_PERSONAL_DATA"}]


async def captcha_id(hub: Hub) -> str:
    return (await hub.gql(CAPTCHA))["data"]["captchaCreate"]["captchaId"]  # type: ignore[no-any-return]


async def test_email_change_answers_the_same_for_a_taken_and_a_free_address(flows: Hub) -> None:
    user, _ = await new_main_account(flows)
    owner, number = await new_main_account(flows)
    session = await token_of(flows, user.email)
    free = f"wolny.{number}@proba.pl"
    taken = await flows.gql(
        EMAIL_START, {"e": owner.email.upper(), "p": DEMO_PASSWORD}, token=session
    )
    vacant = await flows.gql(EMAIL_START, {"e": free, "p": DEMO_PASSWORD}, token=session)
    assert taken == vacant and taken["data"] == {"emailChangeStart": {"errors": []}}
    notice = await last_message(flows, owner.email, Channel.EMAIL)
    assert notice.template == "email_change_address_taken" and "token=" not in notice.body
    assert (await last_message(flows, free, Channel.EMAIL)).template == "email_change"
    async with flows.db.read() as session_:
        links = await session_.execute(
            select(OneTimeCode.payload).where(  # type: ignore[call-overload]
                OneTimeCode.user_id == user.id, OneTimeCode.purpose == CodePurpose.EMAIL_CHANGE
            )
        )
        assert [payload["email"] for payload in links.scalars()] == [free]
        assert (await session_.get(User, user.id)).email == user.email  # type: ignore[union-attr]


async def test_password_change_refuses_the_client_number_and_the_email(flows: Hub) -> None:
    user, number = await new_main_account(flows)
    session = await token_of(flows, user.email)
    for password in (f"Ab#{number}xy", f"X#{user.email.split('@')[0]}1"):
        errors = await errors_of(flows, CHANGE, {"c": DEMO_PASSWORD, "n": password}, token=session)
        assert errors == [{"field": "newPassword", "code": "PASSWORD_CONTAINS_PERSONAL_DATA"}]


async def test_reset_asked_for_by_client_number_refuses_the_number(flows: Hub) -> None:
    user, number = await new_main_account(flows)
    variables = {
        "l": number,
        "e": user.email,
        "e2": user.email,
        "id": await captcha_id(flows),
        "a": CAPTCHA_TEXT,
    }
    assert await errors_of(flows, RESET, variables, ip=fresh_ip()) == []
    link = secret_in(await last_message(flows, user.email, Channel.EMAIL))
    refused = await errors_of(flows, RESET_DONE, {"t": link, "p": f"Reset#{number}"})
    assert refused == PERSONAL
    assert await errors_of(flows, RESET_DONE, {"t": link, "p": NEW_PASSWORD}) == []


async def test_activation_refuses_the_client_number(flows: Hub) -> None:
    """Invited subaccounts set their password through the same activation link."""
    user, number = await new_main_account(flows, password=None)
    assert await errors_of(flows, START, {"e": user.email}, ip=fresh_ip()) == []
    code = secret_in(await last_message(flows, user.phone or "", Channel.SMS))
    assert await errors_of(flows, CONFIRM, {"e": user.email, "c": code}) == []
    link = secret_in(await last_message(flows, user.email, Channel.EMAIL))
    refused = await errors_of(flows, COMPLETE, {"t": link, "p": f"Ab#{number}xy"})
    assert [{"field": e["field"], "code": e["code"]} for e in refused] == PERSONAL


async def test_password_checks_of_profile_flows_share_one_cap_then_ask_for_a_captcha(
    flows: Hub,
) -> None:
    user, _ = await new_main_account(flows)
    session = await token_of(flows, user.email)
    wrong = "Nope#2026x"
    answers = [
        *[await errors_of(flows, TOTP_START, {"p": wrong}, token=session) for _ in range(3)],
        *[await errors_of(flows, EMAIL_START, {"e": "a@b.pl", "p": wrong}, token=session)],
        *[await errors_of(flows, CHANGE, {"c": wrong, "n": NEW_PASSWORD}, token=session)],
    ]
    assert [a[0]["code"] for a in answers] == ["INVALID_PASSWORD"] * 5
    right = await errors_of(flows, TOTP_START, {"p": DEMO_PASSWORD}, token=session)
    assert right == [{"field": "captchaAnswer", "code": "CAPTCHA_REQUIRED"}]
    solved = {"p": DEMO_PASSWORD, "id": await captcha_id(flows), "a": CAPTCHA_TEXT}
    body = await flows.gql(TOTP_START, solved, token=session)
    assert body["data"]["totpSetupStart"]["errors"] == []
    assert body["data"]["totpSetupStart"]["otpauthUri"].startswith("otpauth://")


async def test_first_login_never_tells_a_stranger_what_the_account_is_called(flows: Hub) -> None:
    """A password with the owner's name: the same answer as for an unknown number, no PIN,
    and the reason goes to the company's e-invoice address."""
    _user, number = await new_main_account(flows, password=None)
    named = {"n": number, "p": "Zofia#2026xy"}
    unknown = {"n": "799999", "p": "Zofia#2026xy"}
    assert await errors_of(flows, FIRST_START, named, ip=fresh_ip()) == []
    assert await errors_of(flows, FIRST_START, unknown, ip=fresh_ip()) == []
    sent = await last_message(flows, f"faktury.{number}@proba.pl", Channel.EMAIL)
    assert sent.template == "first_login_refused" and "PIN" not in sent.body
    # What the caller typed is still checked in the answer: the number itself.
    typed = await errors_of(flows, FIRST_START, {"n": number, "p": f"Ab#{number}x"}, ip=fresh_ip())
    assert [e["code"] for e in typed] == ["PASSWORD_CONTAINS_PERSONAL_DATA"]
