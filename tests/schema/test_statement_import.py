"""Booking MT940 statements (issue 13 point 4, INV-3/INV-4): matching, allocation, idempotency.

Two fixtures written by hand from the banks' public format descriptions: a PKO BP-style
statement of one company's virtual account (field 86 with `~` subfields) and an ING-style
statement of the lessor's collective account (`<` subfields). The companies and invoices they
pay are made here, so every expected amount below is worked by hand:

- ALFA (virtual account …355001): A1 1,230.00 due in 10 days, A2 615.00 due in 40 days.
  PKO line 1 pays 1,000.00 naming A2: A2 615.00 (PAID), 385.00 to A1; line 3 pays 200.00
  with no number: to A1. A1 is left with 1,230.00 − 585.00 = 645.00 (PARTIALLY_PAID).
- BETA: B1 1,000.00 (30 days late), B2 500.00 (10 days late), B3 400.00 (due in 20 days).
  ING line 1 pays 1,200.00 naming B3: B3 400.00 (PAID), then the oldest due B1 800.00 → 200.00.
- GAMMA (…355003): C1 300.00. ING line 2 names the account: C1 PAID; line 5 pays 900.00 naming
  C1, already paid: all of it is an overpayment. Line 3 (50.00) is nobody's; line 4 a debit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.payments import mt940_file, plan_credits, targets
from hub.cli import main as cli_main
from loaders.invoice import PAYMENT_LEFT
from models.client import BankAccount, Client
from models.identity import StaffRole, User
from models.invoice import Invoice, InvoiceKind, Payment
from models.statement import StatementLine
from resolvers.booking import parse_statement
from resolvers.ids import to_global_id
from tests.auth.helpers import staff_token, token_of
from tests.conftest import DatabaseFactory, Hub, count_statements, open_hub
from tests.schema.contracts import today

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mt940"
PKO = (FIXTURES / "pko_bp_virtual_account.sta").read_text(encoding="utf-8")
ING = (FIXTURES / "ing_collective_account.sta").read_text(encoding="utf-8")

IMPORT = """mutation($content: String!) {
  statementImport(input: {content: $content, fileName: "wyciag.sta"}) {
    summary { lines credits debits booked duplicates unmatched
              bookedAmount { amount } allocatedAmount { amount } overpayments { amount }
              unmatchedLines { position amount { amount } title payerIban } }
    errors { field code message } } }"""
INVOICE = """query($id: ID!) { node(id: $id) { ... on Invoice { status amountDue { amount } } } }"""
ALLOCATE = """mutation($p: ID!, $i: ID!, $a: Decimal!) {
  paymentAllocate(input: {paymentId: $p, invoiceId: $i, amount: $a}) {
    payment { unallocated { amount } } invoice { amountDue { amount } }
    errors { field code } } }"""
ISSUE = """mutation($c: ID!, $issue: Date!, $due: Date!) {
  invoiceIssue(input: {clientId: $c, kind: FEE, issueDate: $issue, dueDate: $due,
                       net: "1000.00", description: "Opłata"}) {
    invoice { id gross { amount } amountDue { amount } } errors { code } } }"""

# (company, virtual account, [(number, gross, due in days)])
COMPANIES = (
    ("ALFA", "PL70114020040000300201355001", [("900001", "1230.00", 10), ("900002", "615.00", 40)]),
    (
        "BETA",
        "PL43114020040000300201355002",
        [("900011", "1000.00", -30), ("900012", "500.00", -10), ("900013", "400.00", 20)],
    ),
    ("GAMMA", "PL16114020040000300201355003", [("900021", "300.00", 5)]),
)


@dataclass
class World:
    hub: Hub
    staff: str
    clients: dict[str, int]
    invoices: dict[str, str]  # "900001" → global id

    async def gql(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        body = await self.hub.gql(query, variables, token=token or self.staff)
        assert "errors" not in body, body
        return body["data"]

    async def import_(self, content: str) -> dict[str, Any]:
        payload = (await self.gql(IMPORT, {"content": content}))["statementImport"]
        assert payload["errors"] == [], payload
        return payload["summary"]  # type: ignore[no-any-return]

    async def due(self, number: str) -> tuple[str, str]:
        invoice = (await self.gql(INVOICE, {"id": self.invoices[number]}))["node"]
        return invoice["status"], invoice["amountDue"]["amount"]


async def _seed(hub: Hub) -> tuple[dict[str, int], dict[str, str]]:
    clients: dict[str, int] = {}
    invoices: dict[str, str] = {}
    async with hub.db.write() as session:
        for index, (name, iban, rows) in enumerate(COMPANIES):
            client = Client(
                number=f"9000{index}",
                name=f"{name} sp. z o.o.",
                nip=f"52100000{index}0",
                regon="000000000",
                street="Prosta 1",
                postal_code="00-001",
                city="Warszawa",
                email=f"{name.lower()}@example.pl",
                phone="+48000000000",
                einvoice_email=f"{name.lower()}@example.pl",
            )
            session.add(client)
            await session.flush()
            assert client.id is not None
            clients[name] = client.id
            session.add(BankAccount(client_id=client.id, iban=iban, bank_name="Bank"))
            for number, gross, days in rows:
                invoice = Invoice(
                    client_id=client.id,
                    number=f"FV/2025/01/{number}",
                    kind=InvoiceKind.INSTALMENT,
                    issue_date=today() - timedelta(days=60),
                    sale_date=today() - timedelta(days=60),
                    due_date=today() + timedelta(days=days),
                    net=Decimal(gross),
                    vat=Decimal("0.00"),
                    gross=Decimal(gross),
                )
                session.add(invoice)
                await session.flush()
                invoices[number] = to_global_id("Invoice", invoice.id)  # type: ignore[arg-type]
    return clients, invoices


@pytest.fixture
async def world(databases: DatabaseFactory) -> AsyncIterator[World]:
    hub, db = await open_hub(await databases.create())
    clients, invoices = await _seed(hub)
    yield World(hub, await staff_token(hub), clients, invoices)
    await hub.close()
    await db.dispose()


async def _payments(world: World) -> int:
    async with world.hub.db.read() as session:
        return int((await session.execute(select(func.count()).select_from(Payment))).scalar_one())


async def _overpayment(world: World, name: str) -> Decimal:
    async with world.hub.db.read() as session:
        left = await session.execute(
            select(func.coalesce(func.sum(PAYMENT_LEFT), 0)).where(
                Payment.client_id == world.clients[name], PAYMENT_LEFT > 0
            )
        )
        return Decimal(left.scalar_one()).quantize(Decimal("0.01"))


def test_both_bank_layouts_parse_credits_and_skip_debits() -> None:
    pko, ing = parse_statement(PKO), parse_statement(ING)
    assert (pko.lines, len(pko.credits), pko.debits) == (3, 2, 1)
    assert (ing.lines, len(ing.credits), ing.debits) == (5, 4, 1)
    first = pko.credits[0]
    assert first.account == "PL70114020040000300201355001"
    assert first.amount == Decimal("1000.00") and first.invoice_numbers == ["FV/2025/01/900002"]
    assert first.payer_iban == "PL59102010260000123456780009"
    assert first.title.startswith("ZAPŁATA FV/2025/01/900002")
    assert ing.credits[1].named_accounts == ("PL16114020040000300201355003",)
    assert ing.credits[0].payer_name == "BETA TRANS SP. Z O.O."
    assert [c.position for c in ing.credits] == [1, 2, 3, 5]  # the debit keeps its place


async def test_credits_match_by_account_and_title_and_settle_named_then_oldest(
    world: World,
) -> None:
    pko = await world.import_(PKO)
    assert pko["booked"] == 2 and pko["unmatched"] == 0 and pko["debits"] == 1
    assert await world.due("900002") == ("PAID", "0.00")
    assert await world.due("900001") == ("PARTIALLY_PAID", "645.00")  # partial: amount due lower
    ing = await world.import_(ING)
    assert (ing["credits"], ing["booked"], ing["unmatched"], ing["duplicates"]) == (4, 3, 1, 0)
    assert ing["unmatchedLines"] == [
        {
            "position": 3,
            "amount": {"amount": "50.00"},
            "title": "DAROWIZNA",
            "payerIban": "PL59102010260000123456780009",
        }
    ]
    assert await world.due("900013") == ("PAID", "0.00")  # named in the title first
    assert await world.due("900011") == ("OVERDUE", "200.00")  # then the oldest due
    assert await world.due("900012") == ("OVERDUE", "500.00")
    assert await world.due("900021") == ("PAID", "0.00")  # by the account the line names
    assert ing["overpayments"]["amount"] == "900.00"
    assert await _overpayment(world, "GAMMA") == Decimal("900.00")
    async with world.hub.db.read() as session:
        nobody = await session.execute(
            select(StatementLine.amount).where(StatementLine.payment_id.is_(None))  # type: ignore[union-attr]
        )
        assert [row for (row,) in nobody] == [Decimal("50.00")]


async def test_an_overpayment_lowers_the_next_invoice_as_soon_as_it_is_issued(
    world: World,
) -> None:
    await world.import_(ING)
    assert await _overpayment(world, "GAMMA") == Decimal("900.00")
    issued = await world.gql(
        ISSUE,
        {
            "c": to_global_id("Client", world.clients["GAMMA"]),
            "issue": str(today()),
            "due": str(today() + timedelta(days=14)),
        },
    )
    invoice = issued["invoiceIssue"]["invoice"]
    gross = Decimal(invoice["gross"]["amount"])
    assert Decimal(invoice["amountDue"]["amount"]) == gross - Decimal("900.00")
    assert await _overpayment(world, "GAMMA") == Decimal("0.00")
    again = await world.import_(ING)  # nothing new, nothing left to apply
    assert (again["booked"], again["duplicates"]) == (0, 4)
    assert Decimal(again["allocatedAmount"]["amount"]) == Decimal("0.00")


async def test_an_import_applies_unsettled_money_to_invoices_written_since(world: World) -> None:
    """An invoice that reached the database another way (the core system's intake) is settled
    by the next import from the overpayment."""
    await world.import_(ING)
    async with world.hub.db.write() as session:
        invoice = Invoice(
            client_id=world.clients["GAMMA"],
            number="FV/2025/01/900023",
            kind=InvoiceKind.INSTALMENT,
            issue_date=today(),
            sale_date=today(),
            due_date=today() + timedelta(days=14),
            net=Decimal("1000.00"),
            vat=Decimal("0.00"),
            gross=Decimal("1000.00"),
        )
        session.add(invoice)
        await session.flush()
        world.invoices["900023"] = to_global_id("Invoice", invoice.id)  # type: ignore[arg-type]
    again = await world.import_(ING)
    assert Decimal(again["allocatedAmount"]["amount"]) == Decimal("900.00")
    assert await world.due("900023") == ("PARTIALLY_PAID", "100.00")


async def test_the_same_statement_imported_twice_or_in_parallel_books_once(world: World) -> None:
    summaries = await asyncio.gather(*(world.import_(ING) for _ in range(10)))
    assert sum(s["booked"] for s in summaries) == 3
    assert sum(s["unmatched"] for s in summaries) == 1
    assert await _payments(world) == 3
    assert await world.due("900011") == ("OVERDUE", "200.00")  # allocated once too
    again = await world.import_(ING)
    assert (again["booked"], again["unmatched"], again["duplicates"]) == (0, 0, 4)
    assert await _payments(world) == 3


async def test_an_unreadable_file_is_refused_with_invalid_statement(world: World) -> None:
    body = await world.hub.gql(
        IMPORT, {"content": ":20:X\n:25:/PL1\n:28C:1\n:61:bad\n"}, token=world.staff
    )
    assert body["data"]["statementImport"]["errors"][0]["code"] == "INVALID_STATEMENT"
    body = await world.hub.gql(IMPORT, {"content": "not a statement"}, token=world.staff)
    assert body["data"]["statementImport"]["errors"][0]["code"] == "INVALID_STATEMENT"
    assert await _payments(world) == 0


async def test_only_acting_staff_import_statements(world: World) -> None:
    auditor = await staff_token(world.hub, StaffRole.AUDITOR)
    async with world.hub.db.write() as session:
        from auth.passwords import hash_password  # the demo password, as staff_token does
        from hub.demo import DEMO_PASSWORD

        session.add(
            User(
                email="klient@example.pl",
                first_name="Anna",
                last_name="Klient",
                password_hash=hash_password(DEMO_PASSWORD),
            )
        )
    client = await token_of(world.hub, "klient@example.pl")
    for token in (auditor, client):
        body = await world.hub.gql(IMPORT, {"content": ING}, token=token)
        assert body["data"] is None or body["data"]["statementImport"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert await _payments(world) == 0


async def _gamma_payment(world: World) -> str:
    async with world.hub.db.read() as session:
        payment_id = (
            await session.execute(
                select(Payment.id).where(
                    Payment.client_id == world.clients["GAMMA"], Payment.amount == Decimal("900")
                )
            )
        ).scalar_one()
    return to_global_id("Payment", payment_id)


async def test_payment_allocate_keeps_to_the_unallocated_part_the_due_and_the_company(
    world: World,
) -> None:
    await world.import_(ING)
    payment = await _gamma_payment(world)

    async def allocate(invoice: str, amount: str) -> dict[str, Any]:
        variables = {"p": payment, "i": world.invoices[invoice], "a": amount}
        return (await world.gql(ALLOCATE, variables))["paymentAllocate"]  # type: ignore[no-any-return]

    assert (await allocate("900011", "10.00"))["errors"] == [
        {"field": "invoiceId", "code": "NOT_FOUND"}
    ]
    assert (await allocate("900021", "1.00"))["errors"] == [
        {"field": "amount", "code": "MORE_THAN_DUE"}
    ]
    assert (await allocate("900021", "0"))["errors"][0]["code"] == "INVALID_AMOUNT"
    assert await _overpayment(world, "GAMMA") == Decimal("900.00")
    # A second GAMMA invoice of 1,000.00: 20 parallel allocations of 100.00 from 900.00.
    async with world.hub.db.write() as session:
        invoice = Invoice(
            client_id=world.clients["GAMMA"],
            number="FV/2025/01/900022",
            kind=InvoiceKind.INSTALMENT,
            issue_date=today(),
            sale_date=today(),
            due_date=today() + timedelta(days=30),
            net=Decimal("1000.00"),
            vat=Decimal("0.00"),
            gross=Decimal("1000.00"),
        )
        session.add(invoice)
        await session.flush()
        world.invoices["900022"] = to_global_id("Invoice", invoice.id)  # type: ignore[arg-type]
    assert (await allocate("900022", "900.01"))["errors"] == [
        {"field": "amount", "code": "MORE_THAN_UNALLOCATED"}
    ]
    answers = await asyncio.gather(*(allocate("900022", "100.00") for _ in range(20)))
    done = [a for a in answers if not a["errors"]]
    assert len(done) == 9
    assert {a["errors"][0]["code"] for a in answers if a["errors"]} == {"MORE_THAN_UNALLOCATED"}
    assert await world.due("900022") == ("PARTIALLY_PAID", "100.00")
    assert await _overpayment(world, "GAMMA") == Decimal("0.00")


async def test_an_import_costs_the_same_statements_whatever_its_lines(world: World) -> None:
    with count_statements(world.hub.db) as small:
        await world.import_(PKO)
    with count_statements(world.hub.db) as large:
        await world.import_(ING)
    # ING has twice the credits, three companies and an unmatched line: no more statements.
    assert len(large) <= len(small) + 1, (small, large)
    assert len(large) <= 25


async def test_an_import_sends_the_same_statements_for_4_credits_and_for_40(world: World) -> None:
    """With bench/payments.py's statements of many credits paying the world's invoices:
    matched by title and by account, partial and over-payments, credits of nobody."""
    open_, paid = await targets(world.hub.db.engine.url.render_as_string(hide_password=False))
    await world.gql("{ __typename }", {})  # the staff token verified once: cached from now on
    counted = []
    for seed, credits in ((1, 4), (2, 40)):
        planned = plan_credits(
            open_=open_, paid=paid, credits=credits, days=3, today=today(), seed=seed
        )
        with count_statements(world.hub.db) as sent:
            summary = await world.import_(mt940_file(planned)[0])
        assert summary["credits"] == credits and summary["booked"] >= credits // 2
        counted.append(len(sent))
    assert counted[0] == counted[1], counted


async def test_the_cli_books_a_statement_and_prints_its_summary(
    databases: DatabaseFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    if databases.backend != "sqlite":
        pytest.skip("the command over a temporary SQLite file")
    url = await databases.create()
    hub, db = await open_hub(url)
    await _seed(hub)
    await hub.close()
    await db.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEASEHUB_ENV", "test")
    from hub.settings import get_settings

    getattr(get_settings, "cache_clear", lambda: None)()
    path = tmp_path / "wyciag.sta"
    path.write_bytes(ING.encode("cp1250"))  # as older bank exports are encoded
    assert await asyncio.to_thread(cli_main, ["import-statement", str(path)]) == 0
    assert await asyncio.to_thread(cli_main, ["import-statement", str(path)]) == 0
    err = capsys.readouterr().err
    assert (
        "5 lines read, 4 credits, 3 booked (2400.00 PLN), 0 duplicates skipped, 1 unmatched, "
        "1 debits ignored, 1500.00 PLN allocated, 900.00 PLN overpayments"
    ) in err
    assert "4 duplicates skipped, 0 unmatched" in err
    assert "DAROWIZNA" in err
    getattr(get_settings, "cache_clear", lambda: None)()
