"""Payload errors, e-mails and SMS in the language of the request that causes them.

Polish by default, English with `Accept-Language: en`; the codes, links and numbers in them
are the same in both.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from hub.demo import DEMO_PASSWORD
from models.client import Client
from models.identity import StaffRole
from models.outbox import Channel, OutboxMessage
from resolvers.ids import to_global_id
from tests.auth.helpers import (
    errors_of,
    fresh_ip,
    last_message,
    new_main_account,
    secret_in,
    staff_token,
    token_of,
)
from tests.conftest import CAPTCHA_TEXT, LOGIN, Hub

EN = {"Accept-Language": "en"}
CHANGE = """mutation($c: String!, $n: String!) {
  passwordChange(input: {currentPassword: $c, newPassword: $n}) {
    errors { field code message } } }"""
CAPTCHA = "mutation { captchaCreate { captchaId } }"
RESET = """mutation($l: String!, $id: String!, $a: String!) {
  passwordResetRequest(input: {login: $l, email: $l, emailConfirmation: $l, captchaId: $id,
                               captchaAnswer: $a}) { errors { field code message } } }"""
START = "mutation($e: String!) { activationStart(input: {email: $e}) { errors { code } } }"
ISSUE = """mutation($c: ID!, $vat: Int!) {
  invoiceIssue(input: {clientId: $c, kind: FEE, issueDate: "2026-11-20", dueDate: "2026-12-04",
                       net: "100.00", vatRate: $vat, description: "Opłata"}) {
    invoice { number } errors { field code message } } }"""


async def test_wrong_login_answers_in_the_request_language(flows: Hub) -> None:
    wrong = {"login": "nikt@firma.pl", "password": "Zle#Haslo2026"}
    polish = await errors_of(flows, LOGIN, wrong, ip=fresh_ip())
    english = await errors_of(flows, LOGIN, wrong, ip=fresh_ip(), headers=EN)
    assert polish == [
        {"field": None, "code": "INVALID_CREDENTIALS", "message": "Nieprawidłowy login lub hasło."}
    ]
    assert english == [
        {
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": "The login or the password is wrong.",
        }
    ]


async def test_password_change_errors_in_either_language(flows: Hub) -> None:
    user, _number = await new_main_account(flows)
    token = await token_of(flows, user.email)
    wrong = {"c": "Nie#To2026haslo", "n": "Nowe#Haslo2026"}
    polish = await errors_of(flows, CHANGE, wrong, token=token)
    english = await errors_of(flows, CHANGE, wrong, token=token, headers=EN)
    assert [(e["field"], e["code"]) for e in polish] == [("currentPassword", "INVALID_PASSWORD")]
    assert [(e["field"], e["code"]) for e in english] == [("currentPassword", "INVALID_PASSWORD")]
    assert polish[0]["message"] == "Obecne hasło jest nieprawidłowe."
    assert english[0]["message"] == "The current password is wrong."
    # The password rules, one message per rule, with the number of the rule in it.
    weak = {"c": DEMO_PASSWORD, "n": "abc"}
    rules_pl = await errors_of(flows, CHANGE, weak, token=token)
    rules_en = await errors_of(flows, CHANGE, weak, token=token, headers=EN)
    assert [e["code"] for e in rules_pl] == [e["code"] for e in rules_en]
    assert rules_pl[0] == {
        "field": "newPassword",
        "code": "PASSWORD_TOO_SHORT",
        "message": "Użyj co najmniej 8 znaków.",
    }
    assert rules_en[0]["message"] == "Use at least 8 characters."


async def _reset_mail(flows: Hub, email: str, headers: dict[str, str]) -> tuple[str, str, str]:
    captcha = (await flows.gql(CAPTCHA))["data"]["captchaCreate"]["captchaId"]
    variables = {"l": email, "id": captcha, "a": CAPTCHA_TEXT}
    assert await errors_of(flows, RESET, variables, ip=fresh_ip(), headers=headers) == []
    mail = await last_message(flows, email, Channel.EMAIL)
    assert mail.template == "password_reset"
    return mail.subject, mail.body, secret_in(mail)


def _without_link(body: str) -> str:
    return re.sub(r"token=\S+", "token=…", body)


async def test_reset_email_is_polish_by_default_and_english_on_request(flows: Hub) -> None:
    user, _number = await new_main_account(flows)
    subject_pl, body_pl, link_pl = await _reset_mail(flows, user.email, {})
    subject_en, body_en, link_en = await _reset_mail(flows, user.email, EN)
    assert subject_pl == "Ustaw nowe hasło" and subject_en == "Set a new password"
    assert _without_link(body_pl) == (
        "Dzień dobry Zofia,\n\nAby ustawić nowe hasło, otwórz link:\n"
        "http://127.0.0.1:3000/nowe-haslo?token=…\n\n"
        "Link jest ważny przez 2 godziny. Jeśli to nie Ty prosiłeś o zmianę, zignoruj tę "
        "wiadomość.\n\nZespół LeaseHub\nTa wiadomość została wysłana automatycznie."
    )
    assert _without_link(body_en) == (
        "Hello Zofia,\n\nTo set a new password, open the link:\n"
        "http://127.0.0.1:3000/nowe-haslo?token=…\n\n"
        "The link is valid for 2 hours. If you did not ask for the change, ignore this "
        "message.\n\nThe LeaseHub team\nThis message was sent automatically."
    )
    assert link_pl != link_en  # each a working link of its own, whole on its line


async def test_activation_sms_follows_the_request_language(flows: Hub) -> None:
    polish_user, _n = await new_main_account(flows, password=None)
    english_user, _m = await new_main_account(flows, password=None)
    assert await errors_of(flows, START, {"e": polish_user.email}, ip=fresh_ip()) == []
    assert await errors_of(flows, START, {"e": english_user.email}, ip=fresh_ip(), headers=EN) == []
    polish = await last_message(flows, polish_user.phone or "", Channel.SMS)
    english = await last_message(flows, english_user.phone or "", Channel.SMS)
    code_pl, code_en = secret_in(polish), secret_in(english)
    assert polish.body == f"LeaseHub: Twój kod aktywacyjny to {code_pl}. Ważny do północy."
    assert english.body == f"LeaseHub: your activation code is {code_en}. Valid until midnight."


async def test_staff_read_english_but_the_client_gets_polish(flows: Hub) -> None:
    """What staff cause reaches people whose language they do not speak for: the client's
    notices stay in the portals' language, while the staff member's answer is English."""
    _user, number = await new_main_account(flows)
    async with flows.db.read() as session:
        query = select(Client).where(Client.number == number)
        client = (await session.execute(query)).scalar_one()
    staff = await staff_token(flows, StaffRole.FINANCE)
    company = to_global_id("Client", client.id)  # type: ignore[arg-type]
    refused = await errors_of(flows, ISSUE, {"c": company, "vat": 7}, token=staff, headers=EN)
    assert refused == [
        {
            "field": "vatRate",
            "code": "INVALID_VAT_RATE",
            "message": "VAT rate must be one of 23, 8, 5, 0.",
        }
    ]
    assert await errors_of(flows, ISSUE, {"c": company, "vat": 23}, token=staff, headers=EN) == []
    async with flows.db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.client_id == client.id)
        mails = {m.template: m for m in (await session.execute(query)).scalars()}
    assert mails["welcome"].subject == "Witamy w portalu klienta LeaseHub"
    assert mails["invoice_issued"].subject.startswith("Nowa faktura FV/2026/11/")
    assert "na kwotę 123.00 PLN z terminem płatności 2026-12-04" in mails["invoice_issued"].body
