"""Demo data against the finance rules of issue 11, row by row: VAT by kind of contract and
invoice, split payment above 15,000.00 on invoices with VAT (and on their corrections), KSeF
numbers only from the day KSeF applied, what correction PDFs ask for, and loan schedules
named as loans. The expectations are tables written from the VAT Act, not calls of the rules
under test."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import models
from exports.pdf import schedule_pdf, settlement
from hub.demo import LESSOR_NIP, DemoSpec
from hub.settings import Settings
from models.contract import Contract, Instalment
from models.identifiers import is_valid_ksef_number
from models.invoice import Invoice
from resolvers import documents
from tests.exports.test_pdf import Rendered
from tests.hub.test_demo import Row, loaded, money, rows

# Sixteen clients with a fleet: every kind of contract, loans, a terminated lease, corrections
# of split-payment invoices, and invoices from 2021 to after KSeF began.
SPEC = DemoSpec(clients=16, seed=3, today=date(2026, 11, 30))
KSEF_FROM = date(2026, 2, 1)  # the Act of 16 June 2023 as amended in 2025, largest taxpayers
CENT = Decimal("0.01")
# (contract kind, invoice kind) → (printed rate, basis): an operating lease is a service at 23 %;
# a financial lease's delivery is taxed at 23 % on all the contract asks and its instalments
# are np; a loan and its fees are exempt (art. 43 ust. 1 pkt 38); re-invoiced insurance is
# exempt (art. 43 ust. 1 pkt 37, CJEU C-224/11) whatever the contract.
EXPECTED = {
    ("OPERATING_LEASE", "INITIAL_FEE"): ("23", None),
    ("OPERATING_LEASE", "INSTALMENT"): ("23", None),
    ("FINANCIAL_LEASE", "INITIAL_FEE"): ("23", None),
    ("FINANCIAL_LEASE", "INSTALMENT"): ("np", "TAXED_AT_DELIVERY"),
    ("LOAN", "INITIAL_FEE"): ("zw", "CREDIT"),
    ("LOAN", "INSTALMENT"): ("zw", "CREDIT"),
}
PERCENT = {"23": 23, "zw": 0, "np": 0}


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    engine = await loaded(tmp_path_factory.mktemp("demo_vat") / "demo.db", SPEC)
    yield engine
    await engine.dispose()


def _vat(base: Decimal, category: str) -> Decimal:
    return (base * PERCENT[category] / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _expected(contract: Row, invoice: Row) -> tuple[str, str | None]:
    if invoice["kind"] == "INSURANCE":
        return "zw", "INSURANCE"
    return EXPECTED[(contract["kind"], invoice["kind"])]


async def _data(demo: AsyncEngine) -> tuple[dict[int, Row], dict[int, Row], list[Row]]:
    contracts = {c["id"]: c for c in await rows(demo, models.Contract)}
    invoices = {i["id"]: i for i in await rows(demo, models.Invoice)}
    return contracts, invoices, await rows(demo, models.Instalment)


async def test_every_invoice_is_taxed_as_its_contract_and_kind_ask(demo: AsyncEngine) -> None:
    contracts, invoices, instalments = await _data(demo)
    nets: defaultdict[int, Decimal] = defaultdict(Decimal)
    for row in instalments:
        nets[row["contract_id"]] += money(row["net"])
    seen = set()
    for invoice in invoices.values():
        contract = contracts[invoice["contract_id"]]
        source = invoices[invoice["corrects_id"]] if invoice["corrects_id"] else invoice
        category, basis = _expected(contract, source)
        seen.add((contract["kind"], source["kind"]))
        assert (invoice["vat_category"], invoice["vat_basis"]) == (category, basis), invoice
        assert invoice["vat_rate"] == PERCENT[category]
        net, vat, gross = (money(invoice[k]) for k in ("net", "vat", "gross"))
        delivery = (contract["kind"], invoice["kind"]) == ("FINANCIAL_LEASE", "INITIAL_FEE")
        if delivery:  # the whole contract: fee, instalments and buy-out
            base = money(contract["initial_fee"]) + nets[contract["id"]]
            base += money(contract["residual_value"])
            assert money(invoice["tax_base"]) == base and net == money(contract["initial_fee"])
        else:
            assert invoice["tax_base"] is None
            base = net
        assert vat == _vat(base, category) and gross == net + vat
    assert set(EXPECTED) <= seen and any(kind == "INSURANCE" for _, kind in seen)


async def test_every_instalment_row_is_taxed_as_its_contracts_kind(demo: AsyncEngine) -> None:
    contracts, _invoices, instalments = await _data(demo)
    kinds = set()
    for row in instalments:
        kind = contracts[row["contract_id"]]["kind"]
        kinds.add(kind)
        category, _basis = EXPECTED[(kind, "INSTALMENT")]
        net, vat = money(row["net"]), money(row["vat"])
        assert row["vat_category"] == category and row["vat_rate"] == PERCENT[category]
        assert vat == _vat(net, category) and money(row["gross"]) == net + vat
    assert kinds == {"OPERATING_LEASE", "FINANCIAL_LEASE", "LOAN"}


# Computers and other data-processing machines (PKWiU 26.20.1) are goods of annex 15 of the
# VAT Act; the demo's vehicles, machines, disk arrays, switches and presses are not.
ANNEX_15_NAMES = ("Serwer ", "Zestaw laptopów ", "Stacje robocze ")


async def test_split_payment_only_on_deliveries_of_annex_15_goods_above_15000(
    demo: AsyncEngine,
) -> None:
    contracts, invoices, _instalments = await _data(demo)
    items = await rows(demo, models.LeasedItem)
    for item in items:
        assert item["split_payment_goods"] is item["name"].startswith(ANNEX_15_NAMES), item
    with_goods = {i["contract_id"] for i in items if i["name"].startswith(ANNEX_15_NAMES)}
    flags = defaultdict(set)
    for invoice in invoices.values():
        if invoice["corrects_id"]:
            corrected = invoices[invoice["corrects_id"]]
            assert invoice["split_payment"] == corrected["split_payment"], invoice
            continue
        contract = contracts[invoice["contract_id"]]
        # Art. 108a ust. 1a: the total ("kwota należności ogółem") above 15,000 PLN, on an
        # invoice of annex-15 supplies: only a financial lease's delivery of such goods.
        printed_gross = money(invoice["tax_base"] or invoice["net"]) + money(invoice["vat"])
        delivery = (contract["kind"], invoice["kind"]) == ("FINANCIAL_LEASE", "INITIAL_FEE")
        expected = delivery and contract["id"] in with_goods and printed_gross > Decimal("15000.00")
        assert invoice["split_payment"] == expected, invoice
        flags[delivery].add(expected)
    # Deliveries of both kinds of goods, and other invoices above 15,000 PLN without the note.
    assert flags == {True: {True, False}, False: {False}}
    assert any(
        not invoice["split_payment"] and money(invoice["gross"]) > Decimal("15000.00")
        for invoice in invoices.values()
    )


async def test_ksef_numbers_only_on_invoices_issued_since_ksef_applied(demo: AsyncEngine) -> None:
    invoices = await rows(demo, models.Invoice)
    for invoice in invoices:
        numbered = invoice["ksef_number"] is not None
        assert numbered == (invoice["issue_date"] >= KSEF_FROM), invoice
        if numbered:
            assert is_valid_ksef_number(invoice["ksef_number"])
            assert invoice["ksef_number"].startswith(f"{LESSOR_NIP}-{invoice['issue_date']:%Y%m%d}")
    assert {i["ksef_number"] is None for i in invoices} == {True, False}
    assert min(i["issue_date"] for i in invoices).year <= 2022


def _paid_by(allocations: list[Row], invoice_id: int, day: date) -> Decimal:
    """Settled against an invoice by the end of `day`, from the allocation rows."""
    return sum(
        (
            money(a["amount"])
            for a in allocations
            if a["invoice_id"] == invoice_id and a["allocated_on"] <= day
        ),
        Decimal(0),
    )


def _asked_after(invoices: dict[int, Row], correction: Invoice) -> Decimal:
    """The corrected invoice's gross with every correction up to and including this one."""
    corrected = invoices[correction.corrects_id]  # type: ignore[index]
    upto = (correction.issue_date, correction.id)
    return money(corrected["gross"]) + sum(
        (
            money(i["gross"])
            for i in invoices.values()
            if i["corrects_id"] == corrected["id"] and (i["issue_date"], i["id"]) <= upto
        ),
        Decimal(0),
    )


async def test_correction_pdfs_refund_only_what_was_overpaid(demo: AsyncEngine) -> None:
    invoices = {i["id"]: i for i in await rows(demo, models.Invoice)}
    allocations = await rows(demo, models.PaymentAllocation)
    settings, labels = Settings(LEASEHUB_ENV="test"), set()
    async with AsyncSession(demo, expire_on_commit=False) as session:
        query = select(Invoice).where(Invoice.corrects_id.is_not(None))  # type: ignore[union-attr]
        for row in (await session.execute(query)).scalars().all():
            doc = await documents.invoice(session, settings, row, None)
            paid = _paid_by(allocations, row.corrects_id, row.issue_date)  # type: ignore[arg-type]
            asked = _asked_after(invoices, row)
            label, amount = settlement(doc)
            labels.add(label)
            if paid > asked:
                assert (label, amount) == ("Do zwrotu", paid - asked), row.number
            else:
                assert (label, amount) == ("Pozostaje do zapłaty", asked - paid), row.number
            assert doc.split_payment is invoices[row.corrects_id]["split_payment"]  # type: ignore[index]
    assert "Pozostaje do zapłaty" in labels


async def test_loan_schedules_are_printed_as_loans(demo: AsyncEngine) -> None:
    settings = Settings(LEASEHUB_ENV="test")
    async with AsyncSession(demo) as session:
        loans = (await session.execute(select(Contract).where(Contract.kind == "LOAN"))).scalars()
        for contract in loans.all():
            client = await session.get(models.Client, contract.client_id)
            query = select(Instalment).where(Instalment.contract_id == contract.id)
            schedule = list((await session.execute(query.order_by(Instalment.number))).scalars())
            assert client is not None
            doc = documents.schedule(settings, contract, client, schedule[:3], SPEC.today)
            text = Rendered(schedule_pdf(doc)).text
            assert f"do umowy pożyczki nr {contract.number}" in text, contract.number
            assert "leasingu" not in text and "art. 43 ust. 1 pkt 38" in text
