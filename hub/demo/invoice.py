"""Invoices and their settlement: initial fees, instalments and insurance re-invoiced, taxed
as the VAT Act taxes what each invoices (`models.finance.vat_for`) and numbered by KSeF from the
day it applies to the lessor, corrections issued before the due date, and how each invoice was
paid — early, on time, late (with an interest note), in part or not at all — by transfer or
through the payment gateway, with the payments' allocations and the odd overpayment. A fleet
pays what falls due on one day with one transfer, allocated to each invoice it covers."""

from __future__ import annotations

import enum
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hub.demo.document import interest_note, payment_reminder
from hub.demo.draft import ClientDraft, ContractDraft, InvoiceDraft
from hub.demo.rows import Row, day_between, stamps
from hub.demo.spec import LESSOR_NIP
from hub.settings import Settings
from models import GatewayTransaction, Invoice, Payment, PaymentAllocation
from models.base import to_money
from models.calendar import is_overdue, late_from
from models.contract import ContractStatus, Currency
from models.finance import (
    VatTreatment,
    round_money,
    split_payment_applies,
    supplies_annex_15,
    vat_amount,
    vat_for,
)
from models.identifiers import carries_ksef_number, make_ksef_number
from models.interest import shipped_table
from models.invoice import GatewayStatus, InvoiceKind, PaymentSource

# The first issue date with a KSeF number: the setting's default, as the seller is the
# default lessor (LESSOR_NIP).
KSEF_FROM: date = Settings.model_fields["ksef_from"].default
CORRECTION_RATE = 0.03
# How invoices are settled. Not yet due: some paid early, a few in part. Past due: paid within
# days of the due date, some weeks late (and charged interest); three clients in ten are in
# arrears, on invoices of the last year of contracts not yet ended (older ones were collected).
EARLY_RATE = 0.12
EARLY_PART_RATE = 0.02
LATE_RATE = 0.04
LATEST_PAYMENT = timedelta(days=45)  # a late payment is booked 8 to 45 days after the due date
ARREARS_CLIENT_RATE = 0.3
ARREARS_WINDOW = timedelta(days=365)
ARREARS_UNPAID_RATE = 0.5
ARREARS_PART_RATE = 0.15
OVERPAYMENT_RATE = 0.10
GATEWAY_RATE = 0.08
_CORRECTION_REASONS = ("rabat", "błędna stawka ubezpieczenia", "zmiana wartości przedmiotu")
_OVERPAYMENTS = (100, 250, 500, 1000, 1500)


class _Outcome(enum.Enum):
    """How an invoice was settled."""

    ON_TIME = enum.auto()
    LATE = enum.auto()
    PARTIAL = enum.auto()
    UNPAID = enum.auto()
    EARLY = enum.auto()


def issue_invoice(
    draft: ClientDraft,
    contract: ContractDraft,
    kind: InvoiceKind,
    *,
    issue: date,
    due: date,
    net: Decimal,
    description: str,
    corrects: InvoiceDraft | None = None,
    split_payment: bool | None = None,
    tax_base: Decimal | None = None,
) -> InvoiceDraft:
    """An invoice (FV/2026/11/000123, with its KSeF number from KSEF_FROM); an invoice that is
    not itself a correction may be corrected at once, so that its amount due is known when it
    is settled. A correction is taxed like the invoice it corrects and carries its
    `split_payment`; `tax_base`: a financial lease's delivery, VAT on all the contract owes."""
    treatment = _treatment(contract, corrects.kind if corrects else kind)
    vat = vat_amount(net if tax_base is None else tax_base, treatment.category)
    gross = net + vat
    if split_payment is None:  # on the total the invoice prints, the tax base's gross
        printed_gross = (net if tax_base is None else tax_base) + vat
        annex_15 = supplies_annex_15(treatment, split_payment_goods=contract.split_payment_goods)
        split_payment = split_payment_applies(
            printed_gross, treatment.category, annex_15_supply=annex_15
        )
    number = draft.world.numbers.number(f"FV/{issue:%Y/%m}/", issue)
    ksef_number = make_ksef_number(draft.rng, LESSOR_NIP, issue)  # drawn alike before and after
    invoice_id = draft.rows.add(
        Invoice,
        {
            "client_id": draft.client_id,
            "contract_id": contract.id,
            "number": number,
            "kind": kind,
            "ksef_number": ksef_number if carries_ksef_number(issue, ksef_from=KSEF_FROM) else None,
            "issue_date": issue,
            "sale_date": issue,
            "due_date": due,
            "currency": Currency.PLN,
            "vat_rate": treatment.category.percent,
            "vat_category": treatment.category,
            "vat_basis": treatment.basis,
            "net": net,
            "vat": vat,
            "gross": gross,
            "tax_base": tax_base,
            "split_payment": split_payment,
            "corrects_id": corrects.id if corrects else None,
            "description": description,
            **stamps(issue),
        },
    )
    invoice = InvoiceDraft(invoice_id, number, kind, contract, issue, due, gross, gross)
    draft.issued.append((issue, gross))
    if corrects is None:
        draft.invoices.append(invoice)
        _maybe_correct(draft, invoice, net, split_payment=split_payment)
    return invoice


def _treatment(contract: ContractDraft, kind: InvoiceKind) -> VatTreatment:
    """The VAT of an invoice of this kind under this contract (a correction: pass the kind of
    the invoice it corrects)."""
    return vat_for(contract_kind=contract.terms.kind, invoice_kind=kind)


def _maybe_correct(
    draft: ClientDraft, invoice: InvoiceDraft, net: Decimal, *, split_payment: bool
) -> None:
    """Some invoices get a correction before they are due, so the client pays the
    corrected amount; a correction of a split-payment invoice carries the note too (art. 106e
    ust. 1 pkt 18a asks it of every invoice documenting such a supply)."""
    latest = min(invoice.due - timedelta(days=2), draft.today)
    if draft.rng.random() >= CORRECTION_RATE or latest <= invoice.issue:
        return
    issued = day_between(draft.rng, invoice.issue + timedelta(days=1), latest)
    cut = -round_money(net * draft.rng.randint(5, 20) / 100)
    reason = draft.rng.choice(_CORRECTION_REASONS)
    correction = issue_invoice(
        draft,
        invoice.contract,
        InvoiceKind.CORRECTION,
        issue=issued,
        due=invoice.due,
        net=cut,
        description=f"Korekta faktury {invoice.number} – {reason}",
        corrects=invoice,
        split_payment=split_payment,
    )
    invoice.due_amount += correction.gross


def settle(draft: ClientDraft) -> None:
    """Payments for every invoice of every contract; whether the client is in arrears is
    drawn once for all its invoices. A fleet pays the invoices it pays on time in one transfer
    per due date (the rest one by one, like everyone)."""
    forced = _showcase_outcomes(draft) if draft.rich else {}
    in_arrears = draft.rng.random() < ARREARS_CLIENT_RATE
    on_time: defaultdict[date, list[InvoiceDraft]] = defaultdict(list)
    for invoice in draft.invoices:
        outcome = forced.get(invoice.id) or _outcome(draft, invoice, in_arrears=in_arrears)
        if draft.fleet and outcome is _Outcome.ON_TIME:
            on_time[invoice.due].append(invoice)
        else:
            _apply(draft, invoice, outcome)
    for invoices in on_time.values():
        booked = _booking_day(draft, invoices[0], _Outcome.ON_TIME)
        booked = max(booked, *(i.issue for i in invoices))
        payment = _pay(draft, [(i, i.due_amount) for i in invoices], booked)
        draft.paid_in_full += [(payment, i) for i in invoices]
    if draft.rich or draft.rng.random() < OVERPAYMENT_RATE:
        _overpay(draft)


def _showcase_outcomes(draft: ClientDraft) -> dict[int, _Outcome]:
    """A demo client shows arrears, a late payment, and a partial one not yet due."""
    past = sorted(
        (
            i
            for i in draft.invoices
            if i.kind is InvoiceKind.INSTALMENT and is_overdue(i.due, draft.today)
        ),
        key=lambda i: i.due,
        reverse=True,
    )
    # The latest overdue instalment is unpaid, the one before paid in part.
    forced = dict(zip((i.id for i in past), (_Outcome.UNPAID, _Outcome.PARTIAL), strict=False))
    long_ago = [i for i in past[2:] if (draft.today - i.due).days > 60]
    # Paid late, with its interest note: a delay the shipped rate table covers when one is.
    table = shipped_table()
    noted = [i for i in long_ago if table.covers(late_from(i.due), i.due + LATEST_PAYMENT)]
    if long_ago:
        forced[(noted or long_ago)[0].id] = _Outcome.LATE
    upcoming = [i for i in draft.invoices if i.due >= draft.today]
    if upcoming:
        forced[upcoming[0].id] = _Outcome.PARTIAL
    return forced


def _outcome(draft: ClientDraft, invoice: InvoiceDraft, *, in_arrears: bool) -> _Outcome:
    roll, overdue = draft.rng.random(), (draft.today - invoice.due).days
    if overdue <= 0:
        if roll < EARLY_RATE:
            return _Outcome.EARLY
        return _Outcome.PARTIAL if roll < EARLY_RATE + EARLY_PART_RATE else _Outcome.UNPAID
    # A terminated contract keeps its arrears: they may be why it was terminated.
    in_arrears = (
        in_arrears
        and overdue <= ARREARS_WINDOW.days
        and invoice.contract.status is not ContractStatus.ENDED
    )
    if in_arrears and roll < ARREARS_UNPAID_RATE:
        return _Outcome.UNPAID
    if in_arrears and roll < ARREARS_UNPAID_RATE + ARREARS_PART_RATE:
        return _Outcome.PARTIAL
    return _Outcome.LATE if roll > 1 - LATE_RATE and overdue > 45 else _Outcome.ON_TIME


def _apply(draft: ClientDraft, invoice: InvoiceDraft, outcome: _Outcome) -> None:
    if outcome is _Outcome.UNPAID:
        # Unpaid and overdue: a payment reminder; interest is charged once it is paid.
        payment_reminder(draft, invoice)
        return
    booked = _booking_day(draft, invoice, outcome)
    share = draft.rng.randint(50, 90) if outcome is _Outcome.PARTIAL else 100
    payment = _pay(draft, [(invoice, round_money(invoice.due_amount * share / 100))], booked)
    if outcome is _Outcome.LATE:  # the note runs from the first day of delay to `booked`
        interest_note(draft, invoice, payment["amount"], booked)
    elif outcome is not _Outcome.PARTIAL:
        draft.paid_in_full.append((payment, invoice))


def _booking_day(draft: ClientDraft, invoice: InvoiceDraft, outcome: _Outcome) -> date:
    rng = draft.rng
    if outcome is _Outcome.LATE:
        day = invoice.due + timedelta(days=rng.randint(8, LATEST_PAYMENT.days))
    elif invoice.due >= draft.today:  # paid before it is due
        day = day_between(rng, invoice.issue, draft.today)
    else:
        day = invoice.due + timedelta(days=rng.randint(-5, 5))
    return min(max(day, invoice.issue), draft.today)


def _pay(draft: ClientDraft, paid: list[tuple[InvoiceDraft, Decimal]], booked: date) -> Row:
    """One payment of `paid` (invoice, amount allocated to it); only a single invoice may be
    paid through the gateway, a transfer may settle several."""
    invoice, amount = paid[0]
    gateway = len(paid) == 1 and draft.rng.random() < GATEWAY_RATE
    if len(paid) == 1:
        title = f"Zapłata za fakturę {invoice.number}"
    else:
        title = f"Przelew zbiorczy – faktury płatne {invoice.due:%d.%m.%Y} ({len(paid)} szt.)"
    payment: Row = {
        "client_id": draft.client_id,
        "booked_on": booked,
        "amount": sum((a for _, a in paid), Decimal(0)),
        "currency": Currency.PLN,
        "title": title,
        "payer_iban": None if gateway else draft.payer_iban,
        "source": PaymentSource.GATEWAY if gateway else PaymentSource.TRANSFER,
        **stamps(booked),
    }
    payment_id = draft.rows.add(Payment, payment)
    draft.payments.append(payment)
    allocated = min(booked + timedelta(days=draft.rng.randint(0, 1)), draft.today)
    for each, part in paid:
        draft.rows.add(
            PaymentAllocation,
            {
                "client_id": draft.client_id,
                "payment_id": payment_id,
                "invoice_id": each.id,
                "amount": part,
                "allocated_on": allocated,
                **stamps(allocated),
            },
        )
    if gateway:
        draft.rows.add(
            GatewayTransaction,
            {
                "client_id": draft.client_id,
                "invoice_id": invoice.id,
                "amount": amount,
                "status": GatewayStatus.ACCEPTED,
                "provider_reference": f"PAYU-{draft.rng.getrandbits(40):010X}",
                "started_by_id": draft.main.id,
                **stamps(booked),
            },
        )
    return payment


def _overpay(draft: ClientDraft) -> None:
    """A payment larger than what it settles: typically the corrected invoice paid in its
    original amount, otherwise a round sum paid twice."""
    if not draft.paid_in_full:
        return
    corrected = [(p, i) for p, i in draft.paid_in_full if i.due_amount != i.gross]
    if corrected:
        payment, invoice = corrected[-1]
        payment["amount"] += invoice.gross - invoice.due_amount
    else:
        payment, _ = draft.paid_in_full[-1]
        payment["amount"] += to_money(draft.rng.choice(_OVERPAYMENTS))
