"""Lease arithmetic (the annuity instalment and the repayment schedule it produces) and the VAT
rules of what is invoiced: the rate by kind of contract and invoice, and split payment."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from models.base import CENT
from models.contract import ContractKind
from models.invoice import InvoiceKind
from models.vat import VatBasis, VatCategory

# The integer rates `vatRate` (deprecated in favour of `vatCategory`) still accepts.
VAT_RATES = (23, 8, 5, 0)
# Split payment: art. 108a ust. 1a of the VAT Act asks for it on invoices whose "kwota
# należności ogółem przekracza 15 000 zł": strictly above, 15,000.00 itself is below the line.
SPLIT_PAYMENT_ABOVE = Decimal("15000.00")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def split_payment_applies(gross: Decimal, category: VatCategory, *, annex_15_supply: bool) -> bool:
    """Whether an invoice carries "mechanizm podzielonej płatności" (art. 106e ust. 1 pkt 18a):
    art. 108a ust. 1a asks for it on an invoice whose total exceeds the threshold *and* that
    documents goods or services of annex 15 (`annex_15_supply`: see `supplies_annex_15`). The
    mechanism pays the VAT part into the supplier's VAT account (art. 108a ust. 2), so an
    invoice without VAT (zw, np, 0 %) has nothing to split. A correcting invoice carries the
    note when the invoice it corrects does."""
    return annex_15_supply and category.percent > 0 and gross > SPLIT_PAYMENT_ABOVE


def supplies_annex_15(treatment: VatTreatment, *, split_payment_goods: bool) -> bool:
    """Whether an invoice documents a supply listed in annex 15 of the VAT Act. Leasing and
    lending are services the annex does not list (nor insurance), so only a financial lease's
    delivery (art. 7 ust. 9) of goods the annex lists does: computers (PKWiU 26.20.1), phones,
    processors and the like (`LeasedItem.split_payment_goods`)."""
    return treatment.whole_contract and split_payment_goods


@dataclass(frozen=True, slots=True)
class VatTreatment:
    """How one invoice is taxed: its category, why there is no VAT (zw, np), and whether the
    VAT is on the whole amount due under the contract rather than on the invoice's net."""

    category: VatCategory
    basis: VatBasis | None = None
    whole_contract: bool = False


def vat_for(*, contract_kind: ContractKind | None, invoice_kind: InvoiceKind) -> VatTreatment:
    """The VAT Act's treatment of what an invoice of this kind, under a contract of this kind
    (None: no contract), charges for. A correcting invoice keeps the rate of the invoice it
    corrects (art. 106j ust. 2: the correction per rate): it has no treatment of its own."""
    if invoice_kind is InvoiceKind.CORRECTION:
        raise ValueError("a correction carries the VAT of the invoice it corrects")
    if invoice_kind is InvoiceKind.INSURANCE:
        # Re-invoiced insurance is an insurance service of its own, exempt: art. 43 ust. 1
        # pkt 37 with art. 8 ust. 2a; not part of the lease (CJEU C-224/11 BGŻ Leasing).
        return VatTreatment(VatCategory.EXEMPT, VatBasis.INSURANCE)
    if contract_kind is ContractKind.LOAN:
        # Granting a loan, its instalments and its fees: art. 43 ust. 1 pkt 38.
        return VatTreatment(VatCategory.EXEMPT, VatBasis.CREDIT)
    if contract_kind is ContractKind.FINANCIAL_LEASE:
        return _financial_lease(invoice_kind)
    # An operating lease is a service (art. 8 ust. 1) at the standard rate (art. 41 ust. 1
    # with art. 146ef): instalments, initial fee and other fees alike; so is any fee with no
    # contract.
    return VatTreatment(VatCategory.RATE_23)


def _financial_lease(invoice_kind: InvoiceKind) -> VatTreatment:
    """A lease whose asset the lessee depreciates is a supply of goods (art. 7 ust. 1 pkt 2 and
    ust. 9), taxed when the asset is handed over (art. 19a ust. 1) on everything the lessee owes
    under the contract, capital and interest (art. 29a ust. 1; KIS 0114-KDIP4.4012.6.2017.1.EK,
    NSA I FSK 2384/18 of 7 April 2022)."""
    if invoice_kind is InvoiceKind.INITIAL_FEE:  # the invoice of the delivery, at the start
        return VatTreatment(VatCategory.RATE_23, whole_contract=True)
    if invoice_kind is InvoiceKind.INSTALMENT:  # paying for what was taxed at the start
        return VatTreatment(VatCategory.NOT_SUBJECT, VatBasis.TAXED_AT_DELIVERY)
    # Fees for services during the lease are supplies of their own (NSA I FSK 2384/18).
    return VatTreatment(VatCategory.RATE_23)


def treatment_of(
    category: VatCategory, *, contract_kind: ContractKind | None, invoice_kind: InvoiceKind
) -> VatTreatment:
    """A category staff chose for an invoice: the law's treatment when it is the law's own
    category, else that category with the basis a zw or np invoice must print (exempt:
    insurance or credit, the lessor's only exempt supplies; np: no supply at all)."""
    own = vat_for(contract_kind=contract_kind, invoice_kind=invoice_kind)
    if category is own.category:
        return own
    if category is VatCategory.EXEMPT:
        insurance = invoice_kind is InvoiceKind.INSURANCE
        return VatTreatment(category, VatBasis.INSURANCE if insurance else VatBasis.CREDIT)
    if category is VatCategory.NOT_SUBJECT:
        return VatTreatment(category, VatBasis.NOT_A_SUPPLY)
    return VatTreatment(category)


def vat_amount(net: Decimal, category: VatCategory) -> Decimal:
    """VAT on a net amount, from the net rounded to grosze (never from more places)."""
    return round_money(round_money(net) * category.percent / 100)


def delivery_tax_base(
    *, initial_fee: Decimal, instalment_nets: Iterable[Decimal], residual: Decimal
) -> Decimal:
    """The tax base of a financial lease's delivery: every amount the lessee owes under the
    contract, the initial fee, the instalments' capital and interest and the buy-out (art. 29a
    ust. 1: "wszystko, co stanowi zapłatę")."""
    return round_money(initial_fee + sum(instalment_nets, Decimal(0)) + residual)


def annuity_payment(
    capital: Decimal, annual_rate: Decimal, months: int, residual: Decimal
) -> Decimal:
    """P = (C·r·(1+r)^N − F·r) / ((1+r)^N − 1), r = annual rate / 12; zero rate splits evenly."""
    if months < 1:
        raise ValueError("months must be at least 1")
    r = annual_rate / 12
    if r == 0:
        return round_money((capital - residual) / months)
    growth = (1 + r) ** months
    return round_money((capital * r * growth - residual * r) / (growth - 1))


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    number: int
    due_date: date
    capital: Decimal
    interest: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    remaining_capital: Decimal


def delay_days(first_day: date, last_day: date) -> int:
    """Days of delay, both ends counted: from the day after the due date to the day paid."""
    return (last_day - first_day).days + 1


def late_interest(
    amount: Decimal, *, annual_rate: Decimal, first_day: date, last_day: date
) -> Decimal:
    """Simple interest on a late amount for the days of delay at one rate, on a 365-day year.
    Statutory interest changes rate each half-year: `models.interest.statutory_interest` splits
    the period there, on the same conventions."""
    return round_money(amount * annual_rate * delay_days(first_day, last_day) / 365)


def add_months(start: date, months: int, day: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day, 28))


def repayment_schedule(
    *,
    capital: Decimal,
    annual_rate: Decimal,
    months: int,
    residual: Decimal,
    first_due: date,
    payment_day: int,
    vat: VatCategory = VatCategory.RATE_23,
) -> Iterator[ScheduleRow]:
    """Equal net instalments; the last one absorbs rounding so the capital ends at the residual.
    `vat`: the instalments' category (`vat_for` the contract's kind and INSTALMENT)."""
    payment = annuity_payment(capital, annual_rate, months, residual)
    r = annual_rate / 12
    remaining = capital
    for number in range(1, months + 1):
        interest = round_money(remaining * r)
        principal = payment - interest if number < months else remaining - residual
        net = principal + interest
        remaining -= principal
        vat_due = vat_amount(net, vat)
        yield ScheduleRow(
            number=number,
            due_date=add_months(first_due, number - 1, payment_day),
            capital=principal,
            interest=interest,
            net=net,
            vat=vat_due,
            gross=net + vat_due,
            remaining_capital=remaining,
        )
