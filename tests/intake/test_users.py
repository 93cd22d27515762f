"""`leasehub import users` (issue 15 point 6): people of the core system invited once through the
invitation flow, existing accounts linked, one main account per company, scope changes reaching
live sessions at once, staff accounts untouched, and statements that do not grow with a batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from auth.passwords import hash_password
from auth.scopes import ALL_SCOPES
from models.client import Client
from models.identity import Membership, User
from models.outbox import OutboxMessage
from resolvers.ids import to_global_id
from tests.auth.helpers import errors_of, secret_in, staff_token, token_of
from tests.conftest import Hub, count_statements
from tests.intake.helpers import (
    EXAMPLES,
    as_jsonl,
    as_xlsx,
    codes,
    fresh,
    outbox_count,
    read_csv,
    run,
    run_examples,
    write_csv,
)
from tests.schema.helpers import error_codes

__all__ = ["fresh"]  # the fixture, imported for pytest
USERS = EXAMPLES / "users.csv"
PASSWORD = "Zielone#Jabłko7"
ACTIVATE = """mutation($t: String!, $p: String!) {
  activationComplete(input: {token: $t, password: $p}) { errors { code } } }"""
INVOICES = "query($id: ID!) { client(id: $id) { invoices(first: 1) { nodes { number } } } }"


async def people(hub: Hub) -> dict[str, Any]:
    """By e-mail: the user and their memberships as (client number, is_main, scopes)."""
    async with hub.db.read() as session:
        rows = await session.execute(
            select(User, Membership, col(Client.number))
            .join(Membership, col(Membership.user_id) == col(User.id))
            .join(Client, col(Client.id) == col(Membership.client_id))
        )
        found: dict[str, Any] = {}
        for user, membership, number in rows:
            entry = found.setdefault(user.email, {"user": user, "memberships": set()})
            entry["memberships"].add((number, membership.is_main, tuple(membership.scopes)))
        return found


async def invitations(hub: Hub) -> list[OutboxMessage]:
    async with hub.db.read() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.template) == "subaccount_invitation")
        return list((await session.execute(query.order_by(col(OutboxMessage.id)))).scalars())


async def activate(hub: Hub, email: str) -> str:
    """The person sets a password through the e-mailed link and signs in."""
    message = next(m for m in await invitations(hub) if m.recipient == email)
    assert await errors_of(hub, ACTIVATE, {"t": secret_in(message), "p": PASSWORD}) == []
    return await token_of(hub, email, PASSWORD)


async def client_id(hub: Hub, number: str) -> str:
    async with hub.db.read() as session:
        query = select(col(Client.id)).where(col(Client.number) == number)
        found: int = (await session.execute(query)).scalar_one()  # type: ignore[assignment]
        return to_global_id("Client", found)


async def test_new_people_are_invited_once_and_a_second_import_changes_nothing(
    fresh: Hub,
) -> None:
    await run_examples(fresh, ("clients",))
    first = await run(fresh, "users", USERS)
    assert (first.created, first.refused, first.errors) == (3, 0, [])
    sent = await invitations(fresh)
    assert sorted(m.recipient for m in sent) == sorted(r["email"] for r in read_csv(USERS))
    found = await people(fresh)
    assert found["prezes@przyklad.pl"]["memberships"] == {
        ("900001", True, tuple(sorted(s.value for s in ALL_SCOPES)))
    }
    assert found["ksiegowa@przyklad.pl"]["memberships"] == {
        ("900001", False, ("invoices:read", "payments:read"))
    }
    assert found["flota@zolty.pl"]["user"].password_hash is None
    stamps = {email: entry["user"].updated_at for email, entry in found.items()}
    notices = await outbox_count(fresh)
    again = await run(fresh, "users", USERS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    after = await people(fresh)
    assert {email: entry["user"].updated_at for email, entry in after.items()} == stamps
    assert await outbox_count(fresh) == notices
    # The link of the invitation flow works: the person sets a password and signs in.
    assert await activate(fresh, "flota@zolty.pl")


async def test_an_address_of_an_existing_account_is_linked_and_not_invited_again(
    fresh: Hub,
) -> None:
    await run_examples(fresh, ("clients",))
    async with fresh.db.write() as session:
        session.add(
            User(
                email="ksiegowa@przyklad.pl",
                first_name="Joanna",
                last_name="Zielińska",
                password_hash=hash_password(PASSWORD),
            )
        )
    summary = await run(fresh, "users", USERS)
    assert (summary.created, summary.updated, summary.refused) == (2, 1, 0)
    linked = (await people(fresh))["ksiegowa@przyklad.pl"]
    assert linked["user"].external_id == "CORE-U-2"
    assert linked["memberships"] == {("900001", False, ("invoices:read", "payments:read"))}
    assert "ksiegowa@przyklad.pl" not in {m.recipient for m in await invitations(fresh)}
    token = await token_of(fresh, "ksiegowa@przyklad.pl", PASSWORD)
    body = await fresh.gql(INVOICES, {"id": await client_id(fresh, "900001")}, token=token)
    assert "errors" not in body, body


async def test_a_company_has_one_main_account_and_scopes_only_for_subaccounts(
    fresh: Hub, tmp_path: Path
) -> None:
    await run_examples(fresh, ("clients",))
    await run(fresh, "users", USERS)
    main = read_csv(USERS)[0]
    rows = [
        main | {"external_id": "CORE-U-9", "email": "drugi@przyklad.pl"},
        main
        | {
            "external_id": "CORE-U-8",
            "email": "trzeci@zolty.pl",
            "client_external_id": "CORE-C-2",
            "scopes": "invoices:read",
        },
        main
        | {
            "external_id": "CORE-U-7",
            "email": "czwarty@zolty.pl",
            "client_external_id": "CORE-C-2",
        },
        main
        | {"external_id": "CORE-U-6", "email": "piaty@zolty.pl", "client_external_id": "CORE-C-2"},
    ]
    summary = await run(fresh, "users", write_csv(tmp_path / "u.csv", rows))
    assert codes(summary) == {
        (2, "is_main", "MAIN_EXISTS"),
        (3, "scopes", "INVALID_SCOPE"),
        (5, "is_main", "MAIN_EXISTS"),  # the row before became the company's main account
    }
    assert summary.created == 1
    mains = {
        (number, email)
        for email, entry in (await people(fresh)).items()
        for number, is_main, _ in entry["memberships"]
        if is_main
    }
    assert mains == {("900001", "prezes@przyklad.pl"), ("900002", "czwarty@zolty.pl")}


async def test_a_changed_scope_reaches_a_signed_in_session_at_once(
    fresh: Hub, tmp_path: Path
) -> None:
    await run_examples(fresh, ("clients",))
    await run(fresh, "users", USERS)
    token = await activate(fresh, "ksiegowa@przyklad.pl")
    company = await client_id(fresh, "900001")
    assert "errors" not in await fresh.gql(INVOICES, {"id": company}, token=token)
    before = (await people(fresh))["ksiegowa@przyklad.pl"]["user"]
    rows = read_csv(USERS)
    rows[1] |= {"scopes": "contracts:read", "phone": "+48603000111"}
    summary = await run(fresh, "users", write_csv(tmp_path / "u.csv", rows))
    assert (summary.updated, summary.unchanged) == (1, 2)
    answer = await fresh.gql(INVOICES, {"id": company}, token=token)
    assert error_codes(answer) in (["FORBIDDEN"], ["NOT_FOUND"])
    after = (await people(fresh))["ksiegowa@przyklad.pl"]
    assert after["memberships"] == {("900001", False, ("contracts:read",))}
    assert after["user"].phone == "+48603000111"
    assert after["user"].updated_at > before.updated_at
    assert after["user"].auth_version > before.auth_version


async def test_bad_rows_are_reported_with_codes_and_staff_accounts_are_never_touched(
    fresh: Hub, tmp_path: Path
) -> None:
    await run_examples(fresh, ("clients",))
    await staff_token(fresh)  # admin@staff.leasehub.pl
    good = read_csv(USERS)[1]
    rows = [
        good,
        good | {"external_id": "B-1", "email": ""},
        good | {"external_id": "B-2", "email": "nikt"},
        good | {"external_id": "B-3", "email": "b3@przyklad.pl", "client_external_id": "NOBODY"},
        good
        | {"external_id": "B-4", "email": "b4@przyklad.pl", "scopes": "invoices:read unicorns"},
        good | {"external_id": "B-5", "email": "admin@staff.leasehub.pl"},
        good | {"email": "b6@przyklad.pl"},  # the first row's external id again
        good | {"external_id": "B-7"},  # the first row's e-mail again
        good | {"external_id": "B-8", "email": "b8@przyklad.pl", "is_main": "maybe"},
    ]
    summary = await run(fresh, "users", write_csv(tmp_path / "u.csv", rows))
    assert codes(summary) == {
        (3, "email", "REQUIRED"),
        (4, "email", "INVALID_EMAIL"),
        (5, "client_external_id", "UNKNOWN_REFERENCE"),
        (6, "scopes", "INVALID_SCOPE"),
        (7, "email", "STAFF_ACCOUNT"),
        (8, "external_id", "DUPLICATE_IN_FILE"),
        (9, "email", "DUPLICATE_IN_FILE"),
        (10, "is_main", "INVALID_BOOLEAN"),
    }
    assert (summary.created, summary.refused) == (1, 8)
    staff = (await people(fresh)).get("admin@staff.leasehub.pl")
    assert staff is None  # no membership given
    async with fresh.db.read() as session:
        query = select(User).where(col(User.email) == "admin@staff.leasehub.pl")
        assert (await session.execute(query)).scalar_one().external_id is None


async def test_a_dry_run_writes_and_sends_nothing(fresh: Hub) -> None:
    await run_examples(fresh, ("clients",))
    notices = await outbox_count(fresh)
    summary = await run(fresh, "users", USERS, dry_run=True)
    assert (summary.created, summary.refused) == (3, 0)
    assert await people(fresh) == {}
    assert await outbox_count(fresh) == notices


async def test_csv_xlsx_and_json_lines_give_the_same_people(fresh: Hub, tmp_path: Path) -> None:
    await run_examples(fresh, ("clients",))
    await run(fresh, "users", USERS)
    for path in (as_xlsx(USERS, tmp_path / "u.xlsx"), as_jsonl(USERS, tmp_path / "u.jsonl")):
        summary = await run(fresh, "users", path)
        assert (summary.unchanged, summary.refused) == (3, 0), (path, summary)


def subaccounts(count: int, start: int) -> list[dict[str, str]]:
    row = read_csv(USERS)[1]
    return [
        row | {"external_id": f"S-{n}", "email": f"osoba{n}@przyklad.pl"}
        for n in range(start, start + count)
    ]


async def test_statements_of_a_batch_do_not_grow_with_its_people(
    fresh: Hub, tmp_path: Path
) -> None:
    await run_examples(fresh, ("clients",))

    async def statements(rows: list[dict[str, str]], name: str) -> int:
        path = write_csv(tmp_path / name, rows)
        with count_statements(fresh.db) as seen:
            summary = await run(fresh, "users", path, batch_rows=len(rows))
        assert summary.refused == 0, summary.errors
        return len(seen)

    small, large = subaccounts(10, 0), subaccounts(100, 10)
    assert await statements(small, "s.csv") == await statements(large, "l.csv")
    changed = [row | {"scopes": "contracts:read"} for row in small[:5] + subaccounts(5, 200)]
    more = [row | {"scopes": "contracts:read"} for row in large[:50] + subaccounts(50, 300)]
    assert await statements(changed, "s2.csv") == await statements(more, "l2.csv")
    assert len(await invitations(fresh)) == 10 + 100 + 5 + 50
