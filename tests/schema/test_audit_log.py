"""The audit log (issue 15, point 4): every write by anyone on record, with who, from where,
what and the changed fields' before/after; secrets never; append-only; `admin.auditLog`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text, update
from sqlmodel import SQLModel, col

import models  # noqa: F401 - registers every table
from auth.clock import warsaw_today
from exports.tables import TableFormat
from hub.demo import (
    DEMO_MAIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_SUB_EMAIL,
    DemoSpec,
    load_demo,
)
from models import audit
from models.audit import AuditEvent, AuditFrame, acting, is_secret, job
from models.base import utcnow
from models.identity import AuthToken, OneTimeCode, StaffRole, User
from models.outbox import Channel, OutboxMessage
from resolvers.audit import AuditFilter, export_audit_log
from resolvers.ids import to_global_id
from schema.audit import AUDIT_ACTION
from tests.auth.helpers import TOKEN_CREATE, staff_token
from tests.conftest import LOGIN, DatabaseFactory, Hub, count_statements, open_hub
from tests.schema.helpers import error_codes

AUDIT_LOG = """query($f: AuditLogFilterInput, $first: Int, $after: String) {
  admin { auditLog(filter: $f, first: $first, after: $after) {
    nodes { id at action actor { id email name staffRole } onBehalfOf { id } targetUser { id }
            token { id kind name } clientId client { id } ip requestId objectType objectId
            changes details }
    pageInfo { hasNextPage endCursor } } } }"""
PROFILE = """mutation($f: String!) { profileUpdate(input: {firstName: $f}) {
  user { firstName } errors { field code } } }"""
ISSUE = """mutation($c: ID!, $issue: Date!, $due: Date!) {
  invoiceIssue(input: {clientId: $c, kind: FEE, issueDate: $issue, dueDate: $due,
                       net: "1000.00", vatRate: 23, description: "Audit"}) {
    invoice { id number } errors { field code } } }"""
CHANGE = """mutation($c: String!, $n: String!) {
  passwordChange(input: {currentPassword: $c, newPassword: $n}) { errors { field code } } }"""
TOTP_START = """mutation($p: String!) {
  totpSetupStart(input: {password: $p}) { otpauthUri errors { field code } } }"""
SUBACCOUNT = """mutation($id: ID!, $s: [Scope!]) {
  subaccountUpdate(input: {id: $id, scopes: $s}) { subaccount { scopes } errors { code } } }"""
SUBACCOUNTS = "query($c: ID!) { client(id: $c) { subaccounts { id } } }"
FIRST_CLIENT = "{ viewer { user { email } clients { client { id } } } }"


@pytest.fixture(scope="session")
async def audited(databases: DatabaseFactory) -> AsyncIterator[Hub]:
    """A demo of its own: these tests write, and read back every audit row."""
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=4, seed=11))
    for who, email in (("anna", DEMO_MAIN_EMAIL), ("jan", DEMO_SUB_EMAIL)):
        body = await hub.gql(LOGIN, {"login": email, "password": DEMO_PASSWORD})
        hub.tokens[who] = body["data"]["login"]["token"]
    hub.tokens["admin"] = await staff_token(hub, StaffRole.ADMIN)
    hub.tokens["auditor"] = await staff_token(hub, StaffRole.AUDITOR)
    hub.tokens["service"] = await staff_token(hub, StaffRole.CUSTOMER_SERVICE)
    hub.tokens["finance"] = await staff_token(hub, StaffRole.FINANCE)
    yield hub
    await hub.close()
    await db.dispose()


async def audit_log(hub: Hub, as_: str = "auditor", **variables: Any) -> dict[str, Any]:
    body = await hub.gql(AUDIT_LOG, variables, as_=as_)
    assert "errors" not in body, body
    return body["data"]["admin"]["auditLog"]


async def rows(hub: Hub, **where: Any) -> list[AuditEvent]:
    async with hub.db.read() as session:
        query = select(AuditEvent).filter_by(**where).order_by(col(AuditEvent.id))
        return list((await session.execute(query)).scalars())


async def user_pk(hub: Hub, email: str) -> int:
    async with hub.db.read() as session:
        found = await session.execute(select(col(User.id)).where(col(User.email) == email))
        pk = found.scalar_one()
    assert pk is not None
    return pk


async def first_client(hub: Hub, who: str) -> tuple[str, str]:
    body = await hub.gql(FIRST_CLIENT, as_=who)
    viewer = body["data"]["viewer"]
    user = to_global_id("User", await user_pk(hub, viewer["user"]["email"]))
    return user, viewer["clients"][0]["client"]["id"]


def test_every_mutation_of_the_schema_records_its_name(audited: Hub) -> None:
    graphql = next(route for route in audited.app.routes if route.path == "/graphql")
    mutation = graphql.app.schema._schema.mutation_type
    named = {
        name: getattr(field.resolve, AUDIT_ACTION, None) for name, field in mutation.fields.items()
    }
    assert len(named) >= 50
    assert named == {name: name for name in named}
    # Nothing in the API changes the log: no mutation names it.
    assert not [name for name in named if "audit" in name.lower()]


def test_every_secret_column_is_on_the_deny_list() -> None:
    """Any column whose name says hash, secret, password or code (a value, not a count) is
    hidden: a new one cannot slip into the log unnoticed."""
    words = ("hash", "secret", "password", "code")
    allowed = {"postal_code", "bank_code", "purpose", "password_changed_at"}
    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            name = column.name
            if any(word in name for word in words) and name not in allowed:
                assert is_secret(table.name, name), f"{table.name}.{name} is not on the deny-list"
    assert is_secret("outbox", "body") and not is_secret("messages", "body")


async def test_a_client_write_is_recorded_with_who_where_and_before_after(audited: Hub) -> None:
    user_id, _ = await first_client(audited, "anna")
    headers = {"X-Request-Id": "req-profile-1"}
    body = await audited.gql(PROFILE, {"f": "Anastazja"}, as_="anna", headers=headers)
    assert body["data"]["profileUpdate"]["errors"] == []
    log = await audit_log(audited, f={"action": "profileUpdate", "userId": user_id})
    entry = next(node for node in log["nodes"] if node["requestId"] == "req-profile-1")
    assert entry["actor"]["id"] == user_id and entry["actor"]["email"] == DEMO_MAIN_EMAIL
    assert entry["token"]["kind"] == "SESSION" and entry["onBehalfOf"] is None
    assert entry["ip"] == "127.0.0.1"
    assert entry["objectType"] == "users" and entry["objectId"] == user_id
    assert entry["changes"]["op"] == "update"
    assert entry["changes"]["first_name"][1] == "Anastazja"
    assert entry["changes"]["first_name"][0] != "Anastazja"


async def test_the_request_id_is_made_when_not_given_and_answered(audited: Hub) -> None:
    response = await audited.client.post(
        "/graphql",
        json={"query": "{ viewer { user { id } } }"},
        headers={"Authorization": f"Bearer {audited.tokens['anna']}", "X-Request-Id": "bad id!"},
    )
    given = response.headers["x-request-id"]
    assert given != "bad id!" and len(given) == 32


async def test_a_staff_invoice_leaves_a_record(audited: Hub) -> None:
    """`invoiceIssue` used to leave no record at all."""
    _, client = await first_client(audited, "anna")
    today = warsaw_today(utcnow())
    dates = {"issue": str(today), "due": str(today + timedelta(days=14))}
    body = await audited.gql(ISSUE, {"c": client, **dates}, as_="finance")
    invoice = body["data"]["invoiceIssue"]["invoice"]
    log = await audit_log(audited, f={"objectId": invoice["id"]})
    [entry] = log["nodes"]
    assert entry["action"] == "invoiceIssue" and entry["clientId"] == client
    assert entry["actor"]["staffRole"] == "FINANCE"
    assert entry["changes"]["op"] == "insert"
    assert entry["changes"]["number"] == [None, invoice["number"]]
    # The same write's other rows (the outbox notice, say) share its request id.
    same = await audit_log(audited, f={"action": "invoiceIssue", "clientId": client}, first=100)
    assert {node["requestId"] for node in same["nodes"]} >= {entry["requestId"]}


async def test_a_subaccount_scope_change_shows_the_scopes_before_and_after(audited: Hub) -> None:
    _, client = await first_client(audited, "anna")
    subaccounts = await audited.gql(SUBACCOUNTS, {"c": client}, as_="anna")
    sub = subaccounts["data"]["client"]["subaccounts"][0]["id"]
    body = await audited.gql(SUBACCOUNT, {"id": sub, "s": ["CONTRACTS_READ"]}, as_="anna")
    assert body["data"]["subaccountUpdate"]["errors"] == []
    log = await audit_log(audited, f={"action": "subaccountUpdate", "clientId": client})
    membership = next(n for n in log["nodes"] if n["objectType"] == "memberships")
    before, after = membership["changes"]["scopes"]
    assert after == ["contracts:read"] and before != after


async def test_a_failed_write_leaves_no_record_and_a_failed_record_fails_the_write(
    audited: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def message(n: int) -> OutboxMessage:
        return OutboxMessage(channel=Channel.EMAIL, recipient=f"{n}@x.pl", template="t", body="b")

    with acting(AuditFrame(action="test.rolled_back")), pytest.raises(RuntimeError):
        async with audited.db.write() as session:
            session.add(message(1))
            await session.flush()
            raise RuntimeError("the write fails")
    assert await rows(audited, action="test.rolled_back") == []

    def broken(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("the audit row cannot be made")

    monkeypatch.setattr(audit.AuditFrame, "row", broken)
    with acting(AuditFrame(action="test.unrecorded")), pytest.raises(RuntimeError):
        async with audited.db.write() as session:
            session.add(message(2))
    monkeypatch.undo()
    async with audited.db.read() as session:
        found = await session.execute(
            select(OutboxMessage).where(col(OutboxMessage.recipient) == "2@x.pl")
        )
        assert found.first() is None


async def test_one_insert_records_a_transaction_whatever_it_wrote(audited: Hub) -> None:
    async def write(n: int) -> int:
        with count_statements(audited.db) as seen, acting(AuditFrame(action=f"test.many.{n}")):
            async with audited.db.write() as session:
                for i in range(n):
                    session.add(
                        OutboxMessage(
                            channel=Channel.EMAIL, recipient=f"{n}-{i}@x.pl", template="t", body="b"
                        )
                    )
        assert len(await rows(audited, action=f"test.many.{n}")) == n
        return len([s for s in seen if "INSERT INTO audit_log" in s])

    assert await write(2) == await write(20) == 1


async def test_a_core_statement_is_recorded_with_the_rows_it_named(audited: Hub) -> None:
    pk = await user_pk(audited, DEMO_MAIN_EMAIL)
    with job("test-phones"):
        async with audited.db.write() as session:
            await session.execute(
                update(User).where(col(User.id) == pk).values(phone="+48 600 100 200")
            )
    [entry] = await rows(audited, action="job:test-phones")
    assert entry.actor_id is None and entry.object_type == "users" and entry.object_key == str(pk)
    assert entry.changes["set"] == {"phone": "+48 600 100 200"}
    assert entry.changes["where"] == {"id": pk}


async def secret_values(hub: Hub) -> set[str]:
    """Every secret the database holds right now: hashes, TOTP secrets, e-mailed bodies."""
    async with hub.db.read() as session:
        found = [
            *(await session.execute(select(col(AuthToken.token_hash)))).scalars(),
            *(await session.execute(select(col(User.password_hash)))).scalars(),
            *(await session.execute(select(col(User.totp_secret)))).scalars(),
            *(await session.execute(select(col(OneTimeCode.secret_hash)))).scalars(),
            *(await session.execute(select(col(OutboxMessage.body)))).scalars(),
        ]
    return {value for value in found if value and len(value) >= 16}


async def test_no_secret_reaches_any_audit_row(audited: Hub) -> None:
    """Secrets seen at every step, including the ones a write replaces (the old password
    hash a password change names in its WHERE), are searched for in every row."""
    _, client = await first_client(audited, "anna")
    seen = await secret_values(audited)
    made = await audited.gql(TOKEN_CREATE, {"c": client, "s": None, "ro": True}, as_="anna")
    api_secret = made["data"]["apiTokenCreate"]["token"]
    await audited.gql(TOTP_START, {"p": DEMO_PASSWORD}, as_="anna")
    seen |= await secret_values(audited)  # the old hash, before the change replaces it
    new_password = "Inne-Haslo!2027x"
    changed = await audited.gql(CHANGE, {"c": DEMO_PASSWORD, "n": new_password}, as_="anna")
    assert changed["data"]["passwordChange"]["errors"] == []
    again = await audited.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": new_password})
    session_secret = again["data"]["login"]["token"]
    seen |= await secret_values(audited)
    everything = json.dumps(
        [
            {c.key: getattr(row, c.key) for c in sa_inspect(AuditEvent).mapper.column_attrs}
            for row in await rows(audited)
        ],
        default=str,
    )
    assert (
        "login" in everything and "passwordChange" in everything and "apiTokenCreate" in everything
    )
    for secret in (api_secret, session_secret, DEMO_PASSWORD, new_password, *seen):
        assert secret not in everything
    assert '"***"' in everything  # hidden, not dropped: that it changed is on record


async def test_audit_rows_cannot_be_changed_by_the_applications_connection(
    audited: Hub, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no roles or triggers to refuse it; the API has no path")
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with audited.db.write() as session:
                await session.execute(text(statement))
    assert await rows(audited)


async def test_the_audit_log_filters_and_pages_newest_first(audited: Hub) -> None:
    for n in range(3):
        await audited.gql(
            PROFILE, {"f": f"Anna{n}"}, as_="anna", headers={"X-Request-Id": f"page-{n}"}
        )
    whole = await audit_log(audited, f={"action": "profileUpdate"}, first=100)
    ids = [node["id"] for node in whole["nodes"]]
    first = await audit_log(audited, f={"action": "profileUpdate"}, first=2)
    rest = await audit_log(
        audited, f={"action": "profileUpdate"}, first=100, after=first["pageInfo"]["endCursor"]
    )
    assert [n["id"] for n in first["nodes"] + rest["nodes"]] == ids
    assert first["pageInfo"]["hasNextPage"] and len(ids) >= 3
    stamps = [node["at"] for node in whole["nodes"]]
    assert stamps == sorted(stamps, reverse=True)
    newest = whole["nodes"][0]["at"]
    assert (await audit_log(audited, f={"action": "profileUpdate", "from": newest}))["nodes"]
    assert not (
        await audit_log(audited, f={"action": "profileUpdate", "to": "2000-01-01T00:00:00+00:00"})
    )["nodes"]
    assert not (await audit_log(audited, f={"action": "noSuchMutation"}))["nodes"]
    pk = await user_pk(audited, DEMO_MAIN_EMAIL)
    by_key = await audit_log(audited, f={"objectId": f"users:{pk}", "action": "profileUpdate"})
    assert [n["id"] for n in by_key["nodes"]] == ids[: len(by_key["nodes"])] and by_key["nodes"]


@pytest.mark.parametrize("who", ["anna", "service", "finance"])
async def test_only_admins_and_auditors_read_the_audit_log(audited: Hub, who: str) -> None:
    body = await audited.gql(AUDIT_LOG, {"first": 1}, as_=who)
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await audit_log(audited, "admin", first=1))["nodes"]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
async def test_auditors_export_the_log_as_a_table(
    audited: Hub, tmp_path: Path, suffix: str
) -> None:
    await audited.gql(PROFILE, {"f": "Eksport"}, as_="anna")
    path = tmp_path / f"audyt.{suffix}"
    filters = AuditFilter(action="profileUpdate")
    fmt = TableFormat.CSV if suffix == "csv" else TableFormat.XLSX
    written = await export_audit_log(
        audited.db, path, filters=filters, table_format=fmt, polish=True
    )
    expected = await rows(audited, action="profileUpdate")
    assert written == len(expected) >= 1
    table = pd.read_csv(path, sep=";") if suffix == "csv" else pd.read_excel(path)
    assert list(table["Czynność"].unique()) == ["profileUpdate"]
    assert len(table) == written
    assert table["E-mail wykonującego"].iloc[-1] == DEMO_MAIN_EMAIL
    assert "Eksport" in table["Zmiany (JSON)"].iloc[-1]


async def test_a_tokens_last_use_stamp_is_bookkeeping_not_audited(audited: Hub) -> None:
    """Stamped on an API token's use: like an `updated_at`-only change, never a row; a real
    change of the same token still is one."""
    async with audited.db.read() as session:
        token = (await session.execute(select(AuthToken).limit(1))).scalar_one()
    before = len(await rows(audited, object_type="auth_tokens"))
    with acting(AuditFrame(action="stamp")):
        async with audited.db.write() as session:
            stamp = update(AuthToken).where(col(AuthToken.id) == token.id)
            await session.execute(stamp.values(last_used_at=utcnow()))
            row = await session.get(AuthToken, token.id)
            assert row is not None
            row.last_used_at = utcnow() + timedelta(minutes=1)
    assert len(await rows(audited, object_type="auth_tokens")) == before
    with acting(AuditFrame(action="rename")):
        async with audited.db.write() as session:
            stamp = update(AuthToken).where(col(AuthToken.id) == token.id)
            await session.execute(stamp.values(last_used_at=utcnow(), name=token.name))
    assert len(await rows(audited, object_type="auth_tokens")) == before + 1
