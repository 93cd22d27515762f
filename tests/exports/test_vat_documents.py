"""Printed VAT: exempt and not-subject invoices with their legal basis, a financial lease's
delivery paid in instalments, what a correction asks for, and loan schedules named as loans."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from exports.documents import InvoiceLine, VatLine
from exports.pdf import invoice_pdf, schedule_pdf, settlement
from models.contract import ContractKind
from models.i18n import Language
from models.vat import VatBasis, VatCategory
from tests.exports.test_pdf import CORRECTION, INVOICE, SCHEDULE, Rendered

D = Decimal

LOAN_FEE = replace(
    INVOICE,
    lines=(
        InvoiceLine(
            "Prowizja za udzielenie pożyczki – umowa UP/2026/01/00007",
            D("800.00"),
            VatCategory.EXEMPT,
            D("0.00"),
            D("800.00"),
        ),
    ),
    vat_breakdown=(VatLine(VatCategory.EXEMPT, D("800.00"), D("0.00"), D("800.00")),),
    net=D("800.00"),
    vat=D("0.00"),
    gross=D("800.00"),
    split_payment=False,
    vat_basis=VatBasis.CREDIT.text,
)
# A financial lease of 100,000.00 over the contract (initial fee 10,000.00): VAT on it all
# now, 23,000.00; due now the fee and the VAT, 33,000.00; 90,000.00 with the instalments.
DELIVERY = replace(
    INVOICE,
    lines=(
        InvoiceLine(
            "Dostawa przedmiotu leasingu finansowego – umowa UL/2026/01/00008",
            D("100000.00"),
            VatCategory.RATE_23,
            D("23000.00"),
            D("123000.00"),
        ),
    ),
    vat_breakdown=(VatLine(VatCategory.RATE_23, D("100000.00"), D("23000.00"), D("123000.00")),),
    net=D("100000.00"),
    vat=D("23000.00"),
    gross=D("123000.00"),
    payable_now=D("33000.00"),
)


@pytest.fixture(scope="module")
def loan_fee() -> Rendered:
    return Rendered(invoice_pdf(LOAN_FEE))


def test_an_exempt_invoice_prints_zw_and_the_provision_it_is_exempt_under(
    loan_fee: Rendered,
) -> None:
    text = loan_fee.text
    assert "800,00 zw 0,00 800,00" in text  # the line and the breakdown print "zw", not 0 %
    assert "Zwolnienie z VAT: art. 43 ust. 1 pkt 38 ustawy o VAT" in text
    assert "0%" not in text and "podzielonej" not in text


def test_a_taxed_invoice_prints_no_exemption_basis() -> None:
    text = Rendered(invoice_pdf(INVOICE)).text
    assert "Zwolnienie" not in text and "Nie podlega" not in text
    assert "1 003,71 23% 230,85" in text


def test_a_financial_lease_delivery_asks_now_for_the_fee_and_the_vat_on_the_whole() -> None:
    text = Rendered(invoice_pdf(DELIVERY)).text
    assert "Razem 100 000,00 23 000,00 123 000,00" in text
    assert "Płatne w ratach według harmonogramu umowy: 90 000,00 PLN" in text
    assert "Do zapłaty: 33 000,00 PLN" in text
    assert "Do zapłaty: 123 000,00" not in text


# The corrected invoice asked for 12,300.00; the correction lowers it by 1,230.00 (or raises it
# by 500.00): what had been paid by the correction's date decides the closing line.
@pytest.mark.parametrize(
    ("gross", "paid", "label", "amount"),
    [
        (D("-1230.00"), None, "Pozostaje do zapłaty", D("11070.00")),  # nothing paid: no refund
        (D("-1230.00"), D("0.00"), "Pozostaje do zapłaty", D("11070.00")),
        (D("-1230.00"), D("5000.00"), "Pozostaje do zapłaty", D("6070.00")),
        (D("-1230.00"), D("11070.00"), "Pozostaje do zapłaty", D("0.00")),
        (D("-1230.00"), D("11500.00"), "Do zwrotu", D("430.00")),
        (D("-1230.00"), D("12300.00"), "Do zwrotu", D("1230.00")),
        (D("500.00"), D("12300.00"), "Pozostaje do zapłaty", D("500.00")),
    ],
)
def test_a_correction_refunds_only_what_was_paid_above_the_corrected_amount(
    gross: Decimal, paid: Decimal | None, label: str, amount: Decimal
) -> None:
    doc = replace(CORRECTION, gross=gross, paid_before=paid, due_after=D("12300.00") + gross)
    assert settlement(doc) == (label, amount)


def test_an_unpaid_correction_prints_what_is_still_to_pay_not_a_refund() -> None:
    text = Rendered(invoice_pdf(replace(CORRECTION, paid_before=D("0.00")))).text
    assert "Pozostaje do zapłaty: 11 070,00 PLN" in text
    assert "Do zwrotu" not in text and "Zapłacono" not in text


def test_a_correction_of_a_split_payment_invoice_carries_the_note() -> None:
    text = Rendered(invoice_pdf(replace(CORRECTION, split_payment=True))).text
    assert "mechanizm podzielonej płatności" in text
    assert "Zapłacono na poczet faktury korygowanej do dnia wystawienia korekty: 12 300,00" in text


@pytest.fixture(scope="module")
def loan_schedule() -> Rendered:
    return Rendered(
        schedule_pdf(replace(SCHEDULE, contract_number="UP/2026/0042", kind=ContractKind.LOAN))
    )


def test_a_loan_schedule_names_a_loan_not_a_lease(loan_schedule: Rendered) -> None:
    text = loan_schedule.text
    assert "Harmonogram spłat do umowy pożyczki nr UP/2026/0042" in text
    assert "POŻYCZKODAWCA" in text and "POŻYCZKOBIORCA" in text
    assert "leasingu" not in text  # "umowy leasingu", "przedmiotu leasingu" (the seller's
    # own name, Żurawski Leasing, may stay)
    assert "Raty są zwolnione z VAT: art. 43 ust. 1 pkt 38 ustawy o VAT." in text


def test_a_loan_schedule_in_english_says_loan_agreement() -> None:
    doc = replace(SCHEDULE, kind=ContractKind.LOAN, language=Language.EN, rows=SCHEDULE.rows[:3])
    text = Rendered(schedule_pdf(doc)).text
    assert "to loan agreement no. UL/2026/0042" in text and "lease" not in text.lower()
    assert "exempt from VAT: art. 43(1)(38)" in text


def test_a_financial_lease_schedule_says_where_its_vat_was_charged() -> None:
    doc = replace(SCHEDULE, kind=ContractKind.FINANCIAL_LEASE, rows=SCHEDULE.rows[:3])
    text = Rendered(schedule_pdf(doc)).text
    assert "do umowy leasingu nr UL/2026/0042" in text
    assert "VAT od całej kwoty należnej z umowy wykazano w fakturze dokumentującej dostawę" in text
