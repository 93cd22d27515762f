"""Staff look up, unlock and start resets; people edit their profile and e-mail."""

from __future__ import annotations

from sqlalchemy import select

from hub.demo import DEMO_PASSWORD, DEMO_SUB_EMAIL
from models.identity import AuditEvent, StaffRole
from models.outbox import Channel
from tests.auth.helpers import (
    errors_of,
    fresh_ip,
    last_message,
    secret_in,
    staff_token,
    token_of,
    user_with_password,
)
from tests.conftest import LOGIN, Hub
from tests.schema.helpers import error_codes

USERS = """query($s: String) { admin { users(search: $s, first: 5) {
  nodes { id email isActivated recentFailedLogins } } } }"""
UNLOCK = """mutation($id: ID!) {
  adminUserUnlock(input: {userId: $id, reason: "Asked by phone"}) { user { email } } }"""
RESET = """mutation($id: ID!) {
  adminPasswordResetStart(input: {userId: $id, reason: "Asked by phone"}) { user { email } } }"""


async def test_staff_unlock_clears_failed_logins_and_is_audited(flows: Hub) -> None:
    user, _ = await user_with_password(flows, 11)
    for _ in range(5):
        await flows.gql(LOGIN, {"login": user.email, "password": "Wrong#2026x"}, ip=fresh_ip())
    staff = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    found = (await flows.gql(USERS, {"s": user.email}, token=staff))["data"]["admin"]["users"]
    target = found["nodes"][0]
    assert target["email"] == user.email and target["recentFailedLogins"] == 5
    blocked = await flows.gql(
        LOGIN, {"login": user.email, "password": DEMO_PASSWORD}, ip=fresh_ip()
    )
    assert blocked["data"]["login"]["errors"][0]["code"] == "CAPTCHA_REQUIRED"
    assert (await flows.gql(UNLOCK, {"id": target["id"]}, token=staff))["data"]
    assert await token_of(flows, user.email)
    async with flows.db.read() as session:
        actions = (
            (
                await session.execute(
                    select(AuditEvent.action).where(AuditEvent.target_user_id == user.id)
                )
            )
            .scalars()
            .all()
        )
    assert "user.unlock" in actions


async def test_staff_starts_a_reset_but_never_sees_or_sets_the_password(flows: Hub) -> None:
    user, _ = await user_with_password(flows, 11)
    staff = await staff_token(flows, StaffRole.CUSTOMER_SERVICE)
    target = (await flows.gql(USERS, {"s": user.email}, token=staff))["data"]["admin"]["users"]
    body = await flows.gql(RESET, {"id": target["nodes"][0]["id"]}, token=staff)
    mail = await last_message(flows, user.email, Channel.EMAIL)
    assert mail.template == "password_reset" and secret_in(mail) not in str(body)
    assert await token_of(flows, user.email)  # the old password still works until the owner acts


async def test_auditors_and_client_users_cannot_act_on_accounts(flows: Hub) -> None:
    user, _ = await user_with_password(flows, 11)
    auditor = await staff_token(flows, StaffRole.AUDITOR)
    target = (await flows.gql(USERS, {"s": user.email}, token=auditor))["data"]["admin"]["users"]
    user_id = target["nodes"][0]["id"]
    assert error_codes(await flows.gql(UNLOCK, {"id": user_id}, token=auditor)) == ["FORBIDDEN"]
    client_user = await token_of(flows, DEMO_SUB_EMAIL)
    assert error_codes(await flows.gql(RESET, {"id": user_id}, token=client_user)) == ["FORBIDDEN"]
    assert error_codes(await flows.gql(USERS, {"s": "a"}, token=client_user)) == ["FORBIDDEN"]


async def test_profile_update_validates_and_saves(flows: Hub) -> None:
    user, _ = await user_with_password(flows, 11)
    token = await token_of(flows, user.email)
    update = """mutation($p: String) { profileUpdate(input: {phone: $p, firstName: "Zofia"}) {
      user { firstName phone } errors { field code } } }"""
    bad = await flows.gql(update, {"p": "call me"}, token=token)
    assert bad["data"]["profileUpdate"]["errors"] == [{"field": "phone", "code": "INVALID_PHONE"}]
    good = await flows.gql(update, {"p": "+48 601 222 333"}, token=token)
    assert good["data"]["profileUpdate"]["user"] == {
        "firstName": "Zofia",
        "phone": "+48 601 222 333",
    }


async def test_email_change_is_confirmed_through_the_new_address(flows: Hub) -> None:
    user, _ = await user_with_password(flows, 11)
    token = await token_of(flows, user.email)
    start = """mutation($e: String!, $p: String!) {
      emailChangeStart(input: {newEmail: $e, password: $p}) { errors { field code } } }"""
    confirm = "mutation($t: String!) { emailChangeConfirm(input: {token: $t}) { errors { code } } }"
    wrong = await errors_of(flows, start, {"e": "nowy@firma.pl", "p": "Nope#2026x"}, token=token)
    assert wrong == [{"field": "password", "code": "INVALID_PASSWORD"}]
    taken = await errors_of(flows, start, {"e": DEMO_SUB_EMAIL, "p": DEMO_PASSWORD}, token=token)
    assert taken == []  # the same answer as a free address; the owner is told instead
    assert (
        await errors_of(flows, start, {"e": "nowy@firma.pl", "p": DEMO_PASSWORD}, token=token) == []
    )
    link = secret_in(await last_message(flows, "nowy@firma.pl", Channel.EMAIL))
    assert await token_of(flows, user.email)  # nothing changes before the confirmation
    assert await errors_of(flows, confirm, {"t": link}) == []
    assert await token_of(flows, "nowy@firma.pl")
    assert [e["code"] for e in await errors_of(flows, confirm, {"t": link})] == ["INVALID_LINK"]
    notice = await last_message(flows, user.email, Channel.EMAIL)
    assert notice.template == "email_changed"


async def test_einvoice_address_needs_the_profile_scope(flows: Hub) -> None:
    from tests.auth.test_subaccounts import first_company

    company = await first_company(flows)
    mutation = """mutation($c: ID!, $e: String!) { einvoiceEmailUpdate(input: {clientId: $c,
      email: $e}) { client { einvoiceEmail } errors { field code } } }"""
    jan = await token_of(flows, DEMO_SUB_EMAIL)
    denied = await flows.gql(mutation, {"c": company, "e": "faktury@firma.pl"}, token=jan)
    assert error_codes(denied) == ["FORBIDDEN"]
    anna = await token_of(flows, "anna.kowalska@demo.leasehub.pl")
    body = await flows.gql(mutation, {"c": company, "e": "faktury@firma.pl"}, token=anna)
    assert body["data"]["einvoiceEmailUpdate"]["client"] == {"einvoiceEmail": "faktury@firma.pl"}
    master = await flows.gql(
        "query($id: ID!) { client(id: $id) { masterDataChangeRequest { type } } }",
        {"id": company},
        token=anna,
    )
    assert master["data"]["client"]["masterDataChangeRequest"] == {"type": "CLIENT_DATA_CHANGE"}
