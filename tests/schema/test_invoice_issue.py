"""Staff `invoiceIssue` (issue 11): VAT by what is invoiced, corrections that name the invoice
they correct, split payment on deliveries of annex-15 goods above 15,000.00, and every refusal
with its code and nothing written. Expected amounts are worked by hand from the VAT Act's
rules, not by the code."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from models.contract import Contract, ContractKind, Currency, Instalment, LeasedItem
from models.identity import StaffRole
from models.invoice import Invoice, InvoiceKind
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import staff_token
from tests.conftest import Hub
from tests.schema.contracts import today
from tests.schema.test_staff_inputs import refused

ISSUE = """mutation($c: ID!, $contract: ID, $kind: InvoiceKind!, $net: Decimal!, $issue: Date!,
                   $due: Date!, $category: VatCategory, $rate: Int! = 23, $corrects: ID) {
  invoiceIssue(input: {clientId: $c, contractId: $contract, kind: $kind, issueDate: $issue,
                       dueDate: $due, net: $net, vatCategory: $category, vatRate: $rate,
                       correctsId: $corrects, description: "Test"}) {
    invoice { id number kind vatCategory vatRate vatBasis ksefNumber splitPayment currency
              net { amount } vat { amount } gross { amount } taxBase { amount }
              contract { number } amountDue { amount } }
    errors { field code message } } }"""


async def _contract(hub: Hub, kind: ContractKind) -> Contract:
    """The first contract of this kind in the demo data (with its schedule)."""
    async with hub.db.read() as session:
        query = select(Contract).where(Contract.kind == kind).order_by(Contract.id).limit(1)
        return (await session.execute(query)).scalar_one()


def _variables(
    client_id: int, issue_in: int = 0, due_in: int = 14, **changes: Any
) -> dict[str, Any]:
    """Dates as days from the Warsaw today of the moment the test runs: the suite may cross
    midnight."""
    return {
        "c": to_global_id("Client", client_id),
        "kind": "FEE",
        "net": "1000.00",
        "issue": str(today() + timedelta(days=issue_in)),
        "due": str(today() + timedelta(days=due_in)),
        **changes,
    }


async def _issue(hub: Hub, variables: dict[str, Any]) -> dict[str, Any]:
    body = await hub.gql(ISSUE, variables, token=await staff_token(hub, StaffRole.FINANCE))
    assert "errors" not in body, body
    payload = body["data"]["invoiceIssue"]
    assert payload["errors"] == [], payload["errors"]
    return payload["invoice"]  # type: ignore[no-any-return]


async def _issue_under(hub: Hub, under: ContractKind | None, **changes: Any) -> dict[str, Any]:
    if under is None:  # a client's invoice under no contract
        client_id = (await _contract(hub, LOAN)).client_id
        return await _issue(hub, _variables(client_id, **changes))
    contract = await _contract(hub, under)
    variables = _variables(contract.client_id, contract=to_global_id("Contract", contract.id))
    return await _issue(hub, {**variables, **changes})


def _amounts(invoice: dict[str, Any]) -> tuple[str, str, str]:
    return invoice["net"]["amount"], invoice["vat"]["amount"], invoice["gross"]["amount"]


OL, FL, LOAN = ContractKind.OPERATING_LEASE, ContractKind.FINANCIAL_LEASE, ContractKind.LOAN


@pytest.mark.parametrize(
    ("contract", "kind", "category", "vat", "provision"),
    [
        (OL, "INSTALMENT", "RATE_23", "230.00", None),
        (OL, "FEE", "RATE_23", "230.00", None),
        (OL, "INSURANCE", "EXEMPT", "0.00", "art. 43 ust. 1 pkt 37"),
        (FL, "INSTALMENT", "NOT_SUBJECT", "0.00", "art. 7 ust. 1 pkt 2"),
        (FL, "FEE", "RATE_23", "230.00", None),
        (LOAN, "INSTALMENT", "EXEMPT", "0.00", "art. 43 ust. 1 pkt 38"),
        (LOAN, "FEE", "EXEMPT", "0.00", "art. 43 ust. 1 pkt 38"),
        (None, "FEE", "RATE_23", "230.00", None),
        (None, "INSURANCE", "EXEMPT", "0.00", "art. 43 ust. 1 pkt 37"),
    ],
)
async def test_left_out_vat_follows_the_kind_of_contract_and_invoice(
    flows: Hub,
    contract: ContractKind | None,
    kind: str,
    category: str,
    vat: str,
    provision: str | None,
) -> None:
    invoice = await _issue_under(flows, contract, kind=kind)
    assert invoice["vatCategory"] == category and invoice["vat"]["amount"] == vat
    assert invoice["gross"]["amount"] == str(Decimal("1000.00") + Decimal(vat))
    assert invoice["vatRate"] == (23 if category == "RATE_23" else 0)
    assert (invoice["vatBasis"] is None) is (provision is None)
    assert provision is None or provision in invoice["vatBasis"]
    assert invoice["ksefNumber"] is None  # KSeF gives it; the hub never makes one up


async def test_a_financial_lease_delivery_is_taxed_on_all_the_contract_asks(flows: Hub) -> None:
    contract = await _contract(flows, FL)
    async with flows.db.read() as session:
        query = select(func.sum(Instalment.net)).where(Instalment.contract_id == contract.id)
        instalments = Decimal(str((await session.execute(query)).scalar_one()))
    invoice = await _issue_under(flows, FL, kind="INITIAL_FEE", net="10000.00")
    base = Decimal("10000.00") + instalments + contract.residual_value
    vat = (base * Decimal("0.23")).quantize(Decimal("0.01"))  # no half-cent can occur: 23 %
    assert invoice["taxBase"]["amount"] == str(base)
    assert _amounts(invoice) == ("10000.00", str(vat), str(Decimal("10000.00") + vat))
    assert invoice["amountDue"]["amount"] == str(Decimal("10000.00") + vat)
    assert invoice["vatCategory"] == "RATE_23"


@pytest.mark.parametrize("goods", [True, False])
async def test_split_payment_on_a_delivery_only_of_annex_15_goods(flows: Hub, goods: bool) -> None:
    contract = await _split_payment_contract(flows, goods=goods)
    variables = _variables(contract.client_id, contract=to_global_id("Contract", contract.id))
    invoice = await _issue(flows, {**variables, "kind": "INITIAL_FEE", "net": "10000.00"})
    assert Decimal(invoice["gross"]["amount"]) + Decimal(invoice["taxBase"]["amount"]) > 15000
    assert invoice["splitPayment"] is goods


@pytest.mark.parametrize(
    ("changes", "category", "vat", "basis"),
    [
        ({"category": "RATE_8"}, "RATE_8", "80.00", None),
        ({"category": "EXEMPT"}, "EXEMPT", "0.00", "art. 43 ust. 1 pkt 38"),
        ({"category": "NOT_SUBJECT"}, "NOT_SUBJECT", "0.00", "art. 5 ust. 1"),
        ({"rate": 5}, "RATE_5", "50.00", None),  # the deprecated field still chooses
    ],
)
async def test_a_chosen_category_wins_and_prints_its_basis(
    flows: Hub, changes: dict[str, Any], category: str, vat: str, basis: str | None
) -> None:
    invoice = await _issue_under(flows, OL, **changes)
    assert (invoice["vatCategory"], invoice["vat"]["amount"]) == (category, vat)
    assert (basis is None and invoice["vatBasis"] is None) or basis in invoice["vatBasis"]


async def test_vat_rate_23_leaves_a_loan_exempt(flows: Hub) -> None:
    invoice = await _issue_under(flows, LOAN, kind="INSTALMENT", rate=23)
    assert invoice["vatCategory"] == "EXEMPT" and invoice["vat"]["amount"] == "0.00"


async def test_an_operating_lease_invoice_above_15000_has_no_split_payment_note(
    flows: Hub,
) -> None:
    # 12,195.13 × 23 % = 2,804.8799 → 2,804.88: gross 15,000.01, above the threshold, but a
    # leasing service is not in annex 15 (art. 108a ust. 1a); models/test_vat.py has the line.
    invoice = await _issue_under(flows, OL, net="12195.13")
    assert invoice["gross"]["amount"] == "15000.01" and invoice["splitPayment"] is False


async def _split_payment_contract(hub: Hub, *, goods: bool) -> Contract:
    """A financial lease of a client with other contracts too, its items marked as goods of
    annex 15 of the VAT Act or not."""
    async with hub.db.write() as session:
        contracts = (
            (
                await session.execute(
                    select(Contract).where(Contract.kind == FL).order_by(Contract.id)
                )
            )
            .scalars()
            .all()
        )
        counts = dict(
            (
                await session.execute(
                    select(Contract.client_id, func.count()).group_by(Contract.client_id)
                )
            ).all()
        )
        contract = next(c for c in contracts if counts[c.client_id] > 1)
        await session.execute(
            update(LeasedItem)
            .where(LeasedItem.contract_id == contract.id)  # type: ignore[arg-type]
            .values(split_payment_goods=goods)
        )
    return contract


async def _split_invoice(hub: Hub) -> Invoice:
    """An invoice with the split-payment note: the delivery of annex-15 goods under a financial
    lease, issued for the test."""
    contract = await _split_payment_contract(hub, goods=True)
    variables = _variables(contract.client_id, contract=to_global_id("Contract", contract.id))
    issued = await _issue(hub, {**variables, "kind": "INITIAL_FEE", "net": "10000.00"})
    assert issued["splitPayment"] is True
    async with hub.db.read() as session:
        invoice = await session.get(Invoice, from_global_id(issued["id"])[1])
    assert invoice is not None
    return invoice


async def test_a_correction_keeps_the_corrected_invoices_vat_contract_and_split_note(
    flows: Hub,
) -> None:
    corrected = await _split_invoice(flows)
    invoice = await _issue(
        flows,
        _variables(
            corrected.client_id,
            kind="CORRECTION",
            net="-500.00",
            corrects=to_global_id("Invoice", corrected.id),
        ),
    )
    assert invoice["splitPayment"] is True  # its gross is negative, the note stays
    assert invoice["vatCategory"] == corrected.vat_category.name
    assert invoice["amountDue"]["amount"] == "0.00"  # settled with the corrected invoice
    async with flows.db.read() as session:
        contract = await session.get(Contract, corrected.contract_id)
    assert contract is not None and invoice["contract"]["number"] == contract.number


async def test_a_correction_is_in_the_corrected_invoices_currency(flows: Hub) -> None:
    contract = await _contract(flows, OL)
    async with flows.db.write() as session:
        euro = Invoice(
            client_id=contract.client_id,
            number="FV/TEST/EUR/1",
            kind=InvoiceKind.FEE,
            issue_date=today() - timedelta(days=3),
            sale_date=today() - timedelta(days=3),
            due_date=today() + timedelta(days=11),
            currency=Currency.EUR,
            net=Decimal("100.00"),
            vat=Decimal("23.00"),
            gross=Decimal("123.00"),
        )
        session.add(euro)
    invoice = await _issue(
        flows,
        _variables(
            contract.client_id,
            kind="CORRECTION",
            net="-10.00",
            corrects=to_global_id("Invoice", euro.id),  # type: ignore[arg-type]
        ),
    )
    assert invoice["currency"] == "EUR" and _amounts(invoice) == ("-10.00", "-2.30", "-12.30")


async def test_an_invoice_dated_today_is_issued(flows: Hub) -> None:
    day = today()
    invoice = await _issue_under(flows, None, issue=str(day))
    assert invoice["number"].startswith(f"FV/{day:%Y/%m}/")


async def _refusal(hub: Hub, variables: dict[str, Any]) -> list[tuple[str, str]]:
    return await refused(hub, ISSUE, variables)


async def test_a_correction_without_the_corrected_invoice_is_refused(flows: Hub) -> None:
    corrected = await _split_invoice(flows)
    variables = _variables(corrected.client_id, kind="CORRECTION", net="-100.00")
    assert await _refusal(flows, variables) == [("correctsId", "CORRECTED_INVOICE_REQUIRED")]


async def test_a_corrected_invoice_on_an_invoice_that_is_no_correction_is_refused(
    flows: Hub,
) -> None:
    corrected = await _split_invoice(flows)
    variables = _variables(corrected.client_id, corrects=to_global_id("Invoice", corrected.id))
    assert await _refusal(flows, variables) == [("correctsId", "NOT_A_CORRECTION")]


async def _correcting(hub: Hub, **changes: Any) -> list[tuple[str, str]]:
    corrected = await _split_invoice(hub)
    variables = _variables(
        corrected.client_id,
        kind="CORRECTION",
        net="-100.00",
        corrects=to_global_id("Invoice", corrected.id),
    )
    return await _refusal(hub, {**variables, **changes})


async def test_a_correction_of_another_clients_invoice_is_refused(flows: Hub) -> None:
    corrected = await _split_invoice(flows)
    async with flows.db.read() as session:
        query = select(Invoice.id).where(Invoice.client_id != corrected.client_id).limit(1)
        foreign = (await session.execute(query)).scalar_one()
    errors = await _correcting(flows, corrects=to_global_id("Invoice", foreign))
    assert errors == [("correctsId", "NOT_FOUND")]


async def test_a_correction_of_a_correction_is_refused(flows: Hub) -> None:
    async with flows.db.read() as session:
        query = select(Invoice).where(Invoice.kind == InvoiceKind.CORRECTION).limit(1)
        correction = (await session.execute(query)).scalar_one()
    variables = _variables(
        correction.client_id,
        kind="CORRECTION",
        net="-1.00",
        corrects=to_global_id("Invoice", correction.id),  # type: ignore[arg-type]
    )
    assert await _refusal(flows, variables) == [("correctsId", "CORRECTS_A_CORRECTION")]


async def test_a_correction_dated_before_the_corrected_invoice_is_refused(flows: Hub) -> None:
    corrected = await _split_invoice(flows)
    before = str(corrected.issue_date - timedelta(days=1))
    errors = await _correcting(flows, issue=before, due=str(corrected.due_date))
    assert errors == [("issueDate", "BEFORE_CORRECTED_ISSUE_DATE")]


async def test_a_correction_under_another_contract_is_refused(flows: Hub) -> None:
    corrected = await _split_invoice(flows)
    async with flows.db.read() as session:
        query = select(Contract.id).where(
            Contract.client_id == corrected.client_id, Contract.id != corrected.contract_id
        )
        other = (await session.execute(query.limit(1))).scalar_one_or_none()
    assert other is not None  # _split_payment_contract picks a client with several
    errors = await _correcting(flows, contract=to_global_id("Contract", other))
    assert errors == [("contractId", "NOT_THE_CORRECTED_CONTRACT")]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"category": "RATE_8"}, [("vatCategory", "VAT_DIFFERS_FROM_CORRECTED")]),
        ({"rate": 8}, [("vatRate", "VAT_DIFFERS_FROM_CORRECTED")]),
        ({"net": "0"}, [("net", "ZERO_AMOUNT")]),
        ({"net": "-100.005"}, [("net", "TOO_MANY_DECIMALS")]),
    ],
)
async def test_a_correction_that_changes_the_rate_or_nothing_is_refused(
    flows: Hub, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert await _correcting(flows, **changes) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # Tomorrow is refused; today (test_an_invoice_dated_today_is_issued) is not.
        (
            {"issue_in": 1, "due_in": 15},
            [("issueDate", "FUTURE_ISSUE_DATE")],
        ),
        ({"net": "1000.022"}, [("net", "TOO_MANY_DECIMALS")]),  # never stored as 1000.02
        ({"net": 1000.022}, [("net", "TOO_MANY_DECIMALS")]),  # a JSON number alike
        ({"net": "-5.00"}, [("net", "NOT_POSITIVE")]),
        ({"rate": 7}, [("vatRate", "INVALID_VAT_RATE")]),
    ],
)
async def test_an_invoice_with_a_future_date_or_sub_grosz_amount_is_refused(
    flows: Hub, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    corrected = await _split_invoice(flows)
    assert await _refusal(flows, _variables(corrected.client_id, **changes)) == expected
