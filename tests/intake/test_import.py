"""`leasehub import` (issue 15 point 6): records of the core leasing system upserted by external
id, with the API's checks, idempotent, notices once, a failed batch leaving nothing of itself,
the same result from CSV, XLSX and JSON Lines, and statements that do not grow with a batch."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from hub.cli import INTAKE_KINDS, build_parser
from intake.kinds import kinds
from models.client import Client
from models.contract import Contract, Instalment, InsurancePolicy, LeasedItem
from models.document import Document
from models.invoice import Invoice, InvoiceKind, Payment
from models.outbox import OutboxMessage
from models.vat import VatCategory
from resolvers.ids import to_global_id
from schema.intake import IntakeKind
from tests.auth.helpers import staff_token
from tests.conftest import Hub, count_statements
from tests.exports.test_bi_tables import INVOICES_TABLE, pull
from tests.intake.helpers import (
    EXAMPLES,
    ORDER,
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

__all__ = ["fresh"]  # the fixture, imported for pytest
TABLES = (Client, Contract, LeasedItem, Instalment, InsurancePolicy, Invoice, Payment, Document)


def _table(model: Any) -> Any:
    return model.__table__


async def row_counts(hub: Hub) -> dict[str, int]:
    async with hub.db.read() as session:
        counts = {}
        for model in (*TABLES, OutboxMessage):
            table = _table(model)
            query = select(func.count()).select_from(table)
            counts[table.name] = int((await session.execute(query)).scalar_one())
        return counts


async def stamps(hub: Hub) -> dict[tuple[str, str], Any]:
    """Every imported row's `updated_at`, by table and external id."""
    seen: dict[tuple[str, str], Any] = {}
    async with hub.db.read() as session:
        for model in TABLES:
            table = _table(model)
            rows = await session.execute(select(table.c.external_id, table.c.updated_at))
            seen |= {(table.name, ext): at for ext, at in rows}
    return seen


async def by_external_id(hub: Hub, model: Any, external_id: str) -> Any:
    async with hub.db.read() as session:
        query = select(model).where(col(model.external_id) == external_id)
        return (await session.execute(query)).scalar_one()


async def test_example_files_import_in_order_and_a_second_time_change_nothing(
    fresh: Hub,
) -> None:
    first = await run_examples(fresh)
    assert {k: (s.created, s.refused) for k, s in first.items()} == {
        "clients": (2, 0),
        "contracts": (2, 0),
        "items": (2, 0),
        "schedules": (2, 0),
        "policies": (1, 0),
        "invoices": (3, 0),  # the correction names an invoice of the same batch
        "payments": (1, 0),
        "documents": (1, 0),
    }
    before, notices = await stamps(fresh), await outbox_count(fresh)
    again = await run_examples(fresh)
    assert all((s.created, s.updated, s.refused) == (0, 0, 0) for s in again.values())
    assert sum(s.unchanged for s in again.values()) == 14
    assert await stamps(fresh) == before
    assert await outbox_count(fresh) == notices


async def test_invoices_are_taxed_as_the_api_taxes_them_and_corrections_keep_the_vat(
    fresh: Hub,
) -> None:
    await run_examples(fresh, ORDER[:6])
    async with fresh.db.read() as session:
        rows = {i.external_id: i for i in (await session.execute(select(Invoice))).scalars()}
    first, correction = rows["CORE-F-1"], rows["CORE-F-2"]
    assert (first.vat_category, first.vat_basis) == (VatCategory.RATE_23, None)
    assert correction.corrects_id == first.id
    assert correction.contract_id == first.contract_id
    assert correction.kind is InvoiceKind.CORRECTION
    assert correction.sale_date == correction.issue_date  # left empty in the file


async def test_new_invoices_send_the_notice_and_the_first_the_welcome_once(fresh: Hub) -> None:
    await run_examples(fresh)
    await run_examples(fresh)
    async with fresh.db.read() as session:
        sent = (
            await session.execute(
                select(
                    col(OutboxMessage.template),
                    col(OutboxMessage.recipient),
                    col(OutboxMessage.subject),
                ).order_by(col(OutboxMessage.id))
            )
        ).all()
    assert [t for t, _, _ in sent] == ["welcome", *["invoice_issued"] * 3]
    assert {r for _, r, _ in sent} == {"faktury@przyklad.pl"}
    assert sent[1][2] == "Nowa faktura FV/CORE/2026/10/0001"


async def test_a_dry_run_writes_nothing_and_reports_what_a_run_would_refuse(
    fresh: Hub,
) -> None:
    await run_examples(fresh, ("clients",))
    before = await row_counts(fresh)
    for kind in ORDER:
        await run(fresh, kind, EXAMPLES / f"{kind}.csv", dry_run=True)
    assert await row_counts(fresh) == before
    contracts = await run(fresh, "contracts", EXAMPLES / "contracts.csv", dry_run=True)
    assert (contracts.created, contracts.refused) == (2, 0)
    # Nothing was written: the contracts the items name are still unknown.
    items = await run(fresh, "items", EXAMPLES / "items.csv", dry_run=True)
    assert codes(items) == {
        (2, "contract_external_id", "UNKNOWN_REFERENCE"),
        (3, "contract_external_id", "UNKNOWN_REFERENCE"),
    }


async def test_a_dry_run_knows_the_invoices_earlier_in_its_file(fresh: Hub) -> None:
    await run_examples(fresh, ORDER[:2])
    summary = await run(fresh, "invoices", EXAMPLES / "invoices.csv", dry_run=True)
    assert (summary.created, summary.refused, summary.errors) == (3, 0, [])


async def test_bad_rows_are_reported_with_row_field_and_code_and_good_rows_written(
    fresh: Hub, tmp_path: Path
) -> None:
    rows = read_csv(EXAMPLES / "clients.csv")
    good = rows[0]
    bad = [
        good | {"external_id": "B-1", "number": "1", "nip": "1234567890"},
        good | {"external_id": "B-2", "number": "2", "regon": "123456789", "name": ""},
        good | {"external_id": "B-3", "number": "3", "einvoice_email": "nobody"},
        good | {"number": "4"},  # the good row's external id again
        good | {"external_id": "x" * 65, "number": "5"},
    ]
    summary = await run(fresh, "clients", write_csv(tmp_path / "c.csv", [good, *bad]))
    assert codes(summary) == {
        (3, "nip", "INVALID_NIP"),
        (4, "regon", "INVALID_REGON"),
        (4, "name", "REQUIRED"),
        (5, "einvoice_email", "INVALID_EMAIL"),
        (6, "external_id", "DUPLICATE_IN_FILE"),
        (7, "external_id", "TOO_LONG"),
    }
    assert (summary.created, summary.refused) == (1, 5)
    await run_examples(fresh, ("clients", "contracts"))
    invoice = read_csv(EXAMPLES / "invoices.csv")[2]
    wrong = [
        invoice | {"external_id": "I-1", "net": "100.005"},
        invoice | {"external_id": "I-2", "vat": "23.01"},
        invoice | {"external_id": "I-3", "issue_date": "2026-13-01"},
        invoice | {"external_id": "I-4", "ksef_number": "5260250274-20261001-CC8D908FA0BB-00"},
        invoice | {"external_id": "I-5", "client_external_id": "NOBODY"},
        invoice | {"external_id": "I-6", "gross": "124.00"},
        invoice | {"external_id": "I-7", "kind": "CORRECTION"},
        invoice | {"external_id": "I-8", "contract_external_id": "CORE-K-2"},  # another's
        invoice | {"external_id": "I-9", "net": "-100.00", "vat": "-23.00", "gross": "-123.00"},
    ]
    summary = await run(fresh, "invoices", write_csv(tmp_path / "i.csv", wrong))
    assert codes(summary) == {
        (2, "net", "TOO_MANY_DECIMALS"),
        (3, "vat", "INVALID_VAT"),
        (3, "gross", "INVALID_AMOUNT"),
        (4, "issue_date", "INVALID_DATE"),
        (5, "ksef_number", "INVALID_KSEF"),
        (6, "client_external_id", "UNKNOWN_REFERENCE"),
        (7, "gross", "INVALID_AMOUNT"),
        (8, "corrects_external_id", "CORRECTED_INVOICE_REQUIRED"),
        (9, "contract_external_id", "REFERENCE_MISMATCH"),
        (10, "net", "NOT_POSITIVE"),
    }
    assert (summary.created, summary.refused) == (0, 9)
    payment = read_csv(EXAMPLES / "payments.csv")[0] | {
        "payer_iban": "PL00102010265795761703282904"
    }
    summary = await run(fresh, "payments", write_csv(tmp_path / "p.csv", [payment]))
    assert codes(summary) == {(2, "payer_iban", "INVALID_IBAN")}


async def test_a_changed_row_is_updated_moves_updated_at_and_is_pulled_again(
    fresh: Hub, tmp_path: Path
) -> None:
    await run_examples(fresh)
    before = await stamps(fresh)
    client = await by_external_id(fresh, Client, "CORE-C-1")
    since = max(before.values()) + timedelta(microseconds=1)
    rows = read_csv(EXAMPLES / "invoices.csv")
    rows[2]["description"] = "Opłata za duplikat faktury"
    summary = await run(fresh, "invoices", write_csv(tmp_path / "i.csv", rows))
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 2)
    after = await stamps(fresh)
    assert [key for key in after if after[key] != before[key]] == [("invoices", "CORE-F-3")]
    changed = await by_external_id(fresh, Invoice, "CORE-F-3")
    assert changed.description == "Opłata za duplikat faktury"
    staff = await staff_token(fresh)
    variables = {
        "id": to_global_id("Client", client.id),
        "f": "CSV",
        "since": since.isoformat(),
        "pl": False,
    }
    _, content, _ = await pull(fresh, INVOICES_TABLE, variables, token=staff)
    text = content.decode("utf-8-sig")
    assert "FV/CORE/2026/10/0003" in text
    assert "FV/CORE/2026/10/0001" not in text


async def test_a_batch_that_fails_leaves_nothing_of_itself(fresh: Hub, tmp_path: Path) -> None:
    await run_examples(fresh, ORDER[:2])
    # An invoice the hub made itself holds the number the file's third invoice uses.
    client = await by_external_id(fresh, Client, "CORE-C-1")
    async with fresh.db.write() as session:
        source = read_csv(EXAMPLES / "invoices.csv")[2]
        session.add(
            Invoice(
                client_id=client.id,
                number="FV/CORE/2026/10/0003",
                kind=InvoiceKind.FEE,
                issue_date=date.fromisoformat(source["issue_date"]),
                sale_date=date.fromisoformat(source["issue_date"]),
                due_date=date.fromisoformat(source["due_date"]),
                net=Decimal("100.00"),
                vat=Decimal("23.00"),
                gross=Decimal("123.00"),
            )
        )
    notices = await outbox_count(fresh)
    rows = read_csv(EXAMPLES / "invoices.csv")
    fee = rows[2]
    other = fee | {"external_id": "CORE-F-4", "number": "FV/CORE/2026/10/0004"}
    last = fee | {"external_id": "CORE-F-5", "number": "FV/CORE/2026/10/0005"}
    # Batches of two: [F-1, F-2] written, [F-4, F-3] fails on F-3's number, [F-5] written.
    path = write_csv(tmp_path / "i.csv", [rows[0], rows[1], other, fee, last])
    summary = await run(fresh, "invoices", path, batch_rows=2)
    assert codes(summary) == {(4, None, "BATCH_FAILED"), (5, None, "BATCH_FAILED")}
    assert (summary.created, summary.refused) == (3, 2)
    imported = {ext for table, ext in await stamps(fresh) if table == "invoices" and ext}
    assert imported == {"CORE-F-1", "CORE-F-2", "CORE-F-5"}
    # A notice for each of F-1, F-2 and F-5; no welcome: the hub had invoiced the company.
    assert await outbox_count(fresh) == notices + 3


async def test_csv_xlsx_and_json_lines_give_the_same_records(fresh: Hub, tmp_path: Path) -> None:
    await run_examples(fresh)
    before = await stamps(fresh)
    for kind in ORDER:
        source = EXAMPLES / f"{kind}.csv"
        for path in (
            as_xlsx(source, tmp_path / f"{kind}.xlsx"),
            as_jsonl(source, tmp_path / f"{kind}.jsonl"),
        ):
            summary = await run(fresh, kind, path)
            assert (summary.created, summary.updated, summary.refused) == (0, 0, 0), (path, summary)
    assert await stamps(fresh) == before


def invoices(count: int, start: int) -> list[dict[str, str]]:
    fee = read_csv(EXAMPLES / "invoices.csv")[2]
    return [
        fee | {"external_id": f"N-{n}", "number": f"FV/N/{n:06d}"}
        for n in range(start, start + count)
    ]


async def test_statements_of_a_batch_do_not_grow_with_its_rows(fresh: Hub, tmp_path: Path) -> None:
    await run_examples(fresh, ORDER[:2])

    async def statements(rows: list[dict[str, str]], name: str) -> int:
        path = write_csv(tmp_path / name, rows)
        with count_statements(fresh.db) as seen:
            summary = await run(fresh, "invoices", path, batch_rows=len(rows))
        assert summary.refused == 0
        return len(seen)

    small, large = invoices(10, 0), invoices(100, 10)
    assert await statements(small, "s.csv") == await statements(large, "l.csv")
    changed = [row | {"description": "zmiana"} for row in small[:5] + invoices(5, 200)]
    more = [row | {"description": "zmiana"} for row in large[:50] + invoices(50, 300)]
    assert await statements(changed, "s2.csv") == await statements(more, "l2.csv")


def test_the_command_takes_a_kind_a_file_and_a_dry_run() -> None:
    args = build_parser().parse_args(["import", "invoices", "f.xlsx", "--dry-run", "--lang", "en"])
    assert (args.kind, args.file, args.dry_run, args.format) == (
        "invoices",
        Path("f.xlsx"),
        True,
        None,
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["import", "unicorns", "f.csv"])


def test_the_command_and_the_mutation_offer_every_kind_there_is() -> None:
    declared = set(kinds(date(2026, 12, 1)))
    assert set(INTAKE_KINDS) == declared == {kind.value for kind in IntakeKind}
