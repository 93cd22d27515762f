"""Review findings on the intake (issue 15 point 6): an audit row per imported record with its
id, company and changes; imported invoices and payments settled as the API settles them; an
invoice's currency checked as `invoiceIssue` derives it; no record moved to another company;
a company welcomed once when two imports run at once."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from models.audit import AuditEvent
from models.client import Client
from models.invoice import Invoice, InvoiceKind, PaymentAllocation
from models.outbox import OutboxMessage
from tests.conftest import Hub
from tests.intake.helpers import EXAMPLES, codes, fresh, read_csv, run, run_examples, write_csv

__all__ = ["fresh"]  # the fixture, imported for pytest


async def invoice_audit(hub: Hub) -> list[AuditEvent]:
    """The per-record rows: the executemany statements' own rows carry `set`/`where`."""
    async with hub.db.read() as session:
        query = select(AuditEvent).where(
            col(AuditEvent.object_type) == "invoices", col(AuditEvent.object_key).is_not(None)
        )
        return list((await session.execute(query.order_by(col(AuditEvent.id)))).scalars())


async def ids_by_external_id(hub: Hub) -> dict[str | None, tuple[int | None, int]]:
    async with hub.db.read() as session:
        rows = await session.execute(
            select(col(Invoice.external_id), col(Invoice.id), col(Invoice.client_id))
        )
        return {ext: (pk, client) for ext, pk, client in rows}


async def test_each_imported_record_is_audited_with_its_id_company_and_changes(
    fresh: Hub, tmp_path: Path
) -> None:
    await run_examples(fresh, ("clients", "contracts", "invoices"))
    stored = await ids_by_external_id(fresh)
    rows = await invoice_audit(fresh)
    assert {(r.object_key, r.client_id, r.changes["external_id"]) for r in rows} == {
        (str(pk), client, ext) for ext, (pk, client) in stored.items()
    }
    first = next(r for r in rows if r.changes["external_id"] == "CORE-F-1")
    assert first.changes["op"] == "insert"
    assert first.changes["gross"] == [None, "4243.50"]
    source = read_csv(EXAMPLES / "invoices.csv")
    source[2]["description"] = "Opłata za duplikat faktury"
    await run(fresh, "invoices", write_csv(tmp_path / "i.csv", source))
    update = (await invoice_audit(fresh))[-1]
    assert update.object_key == str(stored["CORE-F-3"][0])
    assert update.changes == {
        "op": "update",
        "external_id": "CORE-F-3",
        "description": ["Opłata za duplikat", "Opłata za duplikat faktury"],
    }


async def allocated(hub: Hub) -> dict[str | None, Decimal]:
    async with hub.db.read() as session:
        rows = await session.execute(
            select(col(Invoice.external_id), func.sum(col(PaymentAllocation.amount)))
            .join(Invoice, col(Invoice.id) == col(PaymentAllocation.invoice_id))
            .group_by(col(Invoice.external_id))
        )
        return {ext: Decimal(str(amount)) for ext, amount in rows}


@pytest.mark.parametrize("payments_first", [True, False])
async def test_imported_invoices_and_payments_are_settled_as_the_api_settles_them(
    fresh: Hub, payments_first: bool
) -> None:
    order = ("payments", "invoices") if payments_first else ("invoices", "payments")
    await run_examples(fresh, ("clients", "contracts", *order))
    # Oldest due first, whichever came first: the instalment as corrected (4243.50 - 184.50),
    # then the fee; 61.50 of the payment is left over.
    assert await allocated(fresh) == {
        "CORE-F-1": Decimal("4059.00"),
        "CORE-F-3": Decimal("123.00"),
    }


async def test_an_invoice_in_another_currency_than_its_contract_or_corrected_is_refused(
    fresh: Hub, tmp_path: Path
) -> None:
    await run_examples(fresh, ("clients", "contracts"))
    first, correction, fee = read_csv(EXAMPLES / "invoices.csv")
    rows = [
        first | {"currency": ""},  # left out: the contract's
        correction | {"currency": "EUR"},
        fee | {"currency": "EUR"},  # no contract: PLN
        first | {"external_id": "X-1", "number": "FV/X/1", "currency": "EUR"},
    ]
    summary = await run(fresh, "invoices", write_csv(tmp_path / "i.csv", rows))
    assert codes(summary) == {
        (3, "currency", "CURRENCY_MISMATCH"),
        (4, "currency", "CURRENCY_MISMATCH"),
        (5, "currency", "CURRENCY_MISMATCH"),
    }
    async with fresh.db.read() as session:
        query = select(col(Invoice.currency)).where(col(Invoice.external_id) == "CORE-F-1")
        assert (await session.execute(query)).scalar_one().value == "PLN"


async def test_a_record_is_never_moved_to_another_company(fresh: Hub, tmp_path: Path) -> None:
    await run_examples(fresh, ("clients", "contracts", "items", "invoices"))
    contract = read_csv(EXAMPLES / "contracts.csv")[0] | {"client_external_id": "CORE-C-2"}
    item = read_csv(EXAMPLES / "items.csv")[0] | {"contract_external_id": "CORE-K-2"}
    fee = read_csv(EXAMPLES / "invoices.csv")[2] | {"client_external_id": "CORE-C-2"}
    for kind, row, field in (
        ("contracts", contract, "client_external_id"),
        ("items", item, "contract_external_id"),
        ("invoices", fee, "client_external_id"),
    ):
        summary = await run(fresh, kind, write_csv(tmp_path / f"{kind}.csv", [row]))
        assert codes(summary) == {(2, field, "CLIENT_CHANGED")}, kind
    async with fresh.db.read() as session:
        query = (
            select(col(Client.external_id))
            .join(Invoice, col(Invoice.client_id) == col(Client.id))
            .where(col(Invoice.external_id) == "CORE-F-3")
        )
        assert (await session.execute(query)).scalar_one() == "CORE-C-1"


async def test_an_import_waits_for_a_parallel_first_invoice_and_welcomes_nobody_twice(
    fresh: Hub, tmp_path: Path, backend: str
) -> None:
    """Another writer (invoiceIssue or another import) holds the company and is inserting its
    first invoice: the import waits for it, then sees the company invoiced and sends no
    welcome. Two imports at once take the same lock, so one of them welcomes."""
    if backend != "postgresql":
        pytest.skip("SQLite's write transactions run one at a time")
    await run_examples(fresh, ("clients",))
    fee = read_csv(EXAMPLES / "invoices.csv")[2] | {"contract_external_id": ""}
    path = write_csv(tmp_path / "i.csv", [fee | {"external_id": "A", "number": "FV/A/1"}])
    async with fresh.db.write() as session:
        client = (
            await session.execute(
                select(Client).where(col(Client.external_id) == "CORE-C-1").with_for_update()
            )
        ).scalar_one()
        session.add(
            Invoice(
                client_id=client.id,  # type: ignore[arg-type]
                number="FV/HUB/1",
                kind=InvoiceKind.FEE,
                issue_date=date.fromisoformat(fee["issue_date"]),
                sale_date=date.fromisoformat(fee["issue_date"]),
                due_date=date.fromisoformat(fee["due_date"]),
                net=Decimal("100.00"),
                vat=Decimal("23.00"),
                gross=Decimal("123.00"),
            )
        )
        await session.flush()
        importing = asyncio.create_task(run(fresh, "invoices", path))
        await asyncio.sleep(1)  # the import reaches the company's lock and waits
    assert (await importing).created == 1
    async with fresh.db.read() as session:
        query = select(func.count()).where(col(OutboxMessage.template) == "welcome")
        assert (await session.execute(query)).scalar_one() == 0
    again = fee | {"external_id": "B", "number": "FV/B/1", "client_external_id": "CORE-C-2"}
    b = write_csv(tmp_path / "b.csv", [again])
    c = write_csv(tmp_path / "c.csv", [again | {"external_id": "C", "number": "FV/C/1"}])
    summaries = await asyncio.gather(run(fresh, "invoices", b), run(fresh, "invoices", c))
    assert [s.created for s in summaries] == [1, 1]
    async with fresh.db.read() as session:
        query = select(func.count()).where(col(OutboxMessage.template) == "welcome")
        assert (await session.execute(query)).scalar_one() == 1
