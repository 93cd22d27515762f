"""VAT by what is invoiced, split payment and KSeF dates: the rules of models/finance.py and
models/identifiers.py against tables written by hand from the VAT Act (not from the code)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from hub.settings import Settings
from models.contract import ContractKind
from models.finance import (
    delivery_tax_base,
    repayment_schedule,
    split_payment_applies,
    supplies_annex_15,
    treatment_of,
    vat_amount,
    vat_for,
)
from models.identifiers import carries_ksef_number
from models.invoice import InvoiceKind
from models.vat import VatBasis, VatCategory

D = Decimal
OL, FL, LOAN = ContractKind.OPERATING_LEASE, ContractKind.FINANCIAL_LEASE, ContractKind.LOAN
K = InvoiceKind

# (contract kind, invoice kind) → (printed rate, provision the invoice prints, VAT on the whole
# contract). Written from the Act: an operating lease is a service at 23 % (art. 8 ust. 1, art.
# 41 ust. 1 with art. 146ef); a financial lease a supply of goods taxed in full on delivery
# (art. 7 ust. 1 pkt 2 and ust. 9, art. 19a ust. 1, art. 29a ust. 1); loans exempt (art. 43
# ust. 1 pkt 38); re-invoiced insurance exempt (art. 43 ust. 1 pkt 37, CJEU C-224/11).
TABLE = [
    (OL, K.INSTALMENT, "23", None, False),
    (OL, K.INITIAL_FEE, "23", None, False),
    (OL, K.FEE, "23", None, False),
    (OL, K.INSURANCE, "zw", "art. 43 ust. 1 pkt 37", False),
    (FL, K.INITIAL_FEE, "23", None, True),
    (FL, K.INSTALMENT, "np", "art. 7 ust. 1 pkt 2", False),
    (FL, K.FEE, "23", None, False),
    (FL, K.INSURANCE, "zw", "art. 43 ust. 1 pkt 37", False),
    (LOAN, K.INSTALMENT, "zw", "art. 43 ust. 1 pkt 38", False),
    (LOAN, K.INITIAL_FEE, "zw", "art. 43 ust. 1 pkt 38", False),
    (LOAN, K.FEE, "zw", "art. 43 ust. 1 pkt 38", False),
    (LOAN, K.INSURANCE, "zw", "art. 43 ust. 1 pkt 37", False),
    (None, K.FEE, "23", None, False),
    (None, K.INSURANCE, "zw", "art. 43 ust. 1 pkt 37", False),
]


@pytest.mark.parametrize(("contract", "kind", "printed", "provision", "whole"), TABLE)
def test_vat_follows_the_kind_of_contract_and_invoice_and_names_its_provision(
    contract: ContractKind | None,
    kind: InvoiceKind,
    printed: str,
    provision: str | None,
    whole: bool,
) -> None:
    treatment = vat_for(contract_kind=contract, invoice_kind=kind)
    assert treatment.category.value == printed
    assert treatment.whole_contract is whole
    if provision is None:
        assert treatment.basis is None
    else:
        assert treatment.basis is not None
        assert provision in treatment.basis.text and "ustawy o VAT" in treatment.basis.text


def test_reinvoiced_insurance_cites_the_cjeu_judgment_and_resale_in_own_name() -> None:
    text = VatBasis.INSURANCE.text
    assert "C-224/11" in text and "art. 8 ust. 2a" in text and text.startswith("Zwolnienie")


def test_a_correction_has_no_treatment_of_its_own() -> None:
    with pytest.raises(ValueError, match="corrects"):
        vat_for(contract_kind=OL, invoice_kind=K.CORRECTION)


@pytest.mark.parametrize(
    ("category", "percent", "label"),
    [
        (VatCategory.RATE_23, 23, "23%"),
        (VatCategory.RATE_8, 8, "8%"),
        (VatCategory.RATE_5, 5, "5%"),
        (VatCategory.RATE_0, 0, "0%"),
        (VatCategory.EXEMPT, 0, "zw"),
        (VatCategory.NOT_SUBJECT, 0, "np"),
    ],
)
def test_each_category_has_its_percentage_and_printed_label(
    category: VatCategory, percent: int, label: str
) -> None:
    assert (category.percent, category.label) == (percent, label)


@pytest.mark.parametrize(
    ("gross", "category", "applies"),
    [
        (D("15000.00"), VatCategory.RATE_23, False),  # "przekracza": 15,000.00 is not above
        (D("15000.01"), VatCategory.RATE_23, True),
        (D("14999.99"), VatCategory.RATE_23, False),
        (D("123000.00"), VatCategory.RATE_8, True),
        (D("20000.00"), VatCategory.EXEMPT, False),  # no VAT to pay into a VAT account
        (D("20000.00"), VatCategory.NOT_SUBJECT, False),
        (D("20000.00"), VatCategory.RATE_0, False),
    ],
)
def test_split_payment_applies_above_15000_on_annex_15_invoices_with_vat(
    gross: Decimal, category: VatCategory, applies: bool
) -> None:
    assert split_payment_applies(gross, category, annex_15_supply=True) is applies
    # Art. 108a ust. 1a: only supplies listed in annex 15, whatever the amount.
    assert split_payment_applies(gross, category, annex_15_supply=False) is False


@pytest.mark.parametrize(
    ("contract", "kind", "goods", "annex_15"),
    [
        (ContractKind.FINANCIAL_LEASE, InvoiceKind.INITIAL_FEE, True, True),  # the delivery
        (ContractKind.FINANCIAL_LEASE, InvoiceKind.INITIAL_FEE, False, False),
        (ContractKind.FINANCIAL_LEASE, InvoiceKind.INSTALMENT, True, False),  # np, no supply
        (ContractKind.FINANCIAL_LEASE, InvoiceKind.FEE, True, False),  # a service
        (ContractKind.OPERATING_LEASE, InvoiceKind.INSTALMENT, True, False),  # leasing service
        (ContractKind.OPERATING_LEASE, InvoiceKind.INITIAL_FEE, True, False),
        (ContractKind.LOAN, InvoiceKind.INITIAL_FEE, True, False),  # credit
    ],
)
def test_only_a_financial_lease_delivery_of_annex_15_goods_is_an_annex_15_supply(
    contract: ContractKind, kind: InvoiceKind, goods: bool, annex_15: bool
) -> None:
    treatment = vat_for(contract_kind=contract, invoice_kind=kind)
    assert supplies_annex_15(treatment, split_payment_goods=goods) is annex_15


@pytest.mark.parametrize(
    ("net", "category", "vat"),
    [
        (D("1000.00"), VatCategory.RATE_23, D("230.00")),
        (D("1000.02"), VatCategory.RATE_23, D("230.00")),  # 230.0046
        (D("0.50"), VatCategory.RATE_23, D("0.12")),  # 0.115, half up
        # From the rounded net: 10.07 × 23 % = 2.3161; the unrounded 10.065 gave 2.31495.
        (D("10.065"), VatCategory.RATE_23, D("2.32")),
        (D("1000.00"), VatCategory.RATE_8, D("80.00")),
        (D("999.99"), VatCategory.RATE_5, D("50.00")),  # 49.9995
        (D("1000.00"), VatCategory.EXEMPT, D("0.00")),
        (D("1000.00"), VatCategory.NOT_SUBJECT, D("0.00")),
    ],
)
def test_vat_is_computed_from_the_net_rounded_to_grosze(
    net: Decimal, category: VatCategory, vat: Decimal
) -> None:
    assert vat_amount(net, category) == vat


def test_a_financial_lease_delivery_is_taxed_on_everything_the_contract_asks() -> None:
    base = delivery_tax_base(
        initial_fee=D("10000.00"),
        instalment_nets=[D("1000.00"), D("1000.50"), D("999.25")],
        residual=D("500.00"),
    )
    assert base == D("13499.75")


@pytest.mark.parametrize(
    ("category", "contract", "kind", "basis", "whole"),
    [
        (VatCategory.RATE_23, FL, K.INITIAL_FEE, None, True),  # the law's own: the delivery
        (VatCategory.RATE_8, OL, K.FEE, None, False),
        (VatCategory.EXEMPT, OL, K.FEE, VatBasis.CREDIT, False),
        (VatCategory.EXEMPT, None, K.INSURANCE, VatBasis.INSURANCE, False),
        (VatCategory.NOT_SUBJECT, OL, K.FEE, VatBasis.NOT_A_SUPPLY, False),
        (VatCategory.NOT_SUBJECT, FL, K.INSTALMENT, VatBasis.TAXED_AT_DELIVERY, False),
    ],
)
def test_a_chosen_category_prints_the_basis_that_fits_it(
    category: VatCategory,
    contract: ContractKind | None,
    kind: InvoiceKind,
    basis: VatBasis | None,
    whole: bool,
) -> None:
    treatment = treatment_of(category, contract_kind=contract, invoice_kind=kind)
    assert (treatment.category, treatment.basis, treatment.whole_contract) == (
        category,
        basis,
        whole,
    )


def test_an_exempt_schedule_carries_no_vat() -> None:
    rows = list(
        repayment_schedule(
            capital=D("12000.00"),
            annual_rate=D("0.12"),
            months=12,
            residual=D("0"),
            first_due=date(2026, 1, 15),
            payment_day=15,
            vat=VatCategory.EXEMPT,
        )
    )
    assert all(row.vat == 0 and row.gross == row.net for row in rows)
    assert rows[0].net == D("1066.19")  # the annuity of 12,000 at 1 % a month over 12 months


@pytest.mark.parametrize(
    ("issued", "numbered"),
    [(date(2021, 6, 1), False), (date(2026, 1, 31), False), (date(2026, 2, 1), True)],
)
def test_ksef_numbers_only_from_the_day_ksef_applied(issued: date, numbered: bool) -> None:
    assert carries_ksef_number(issued, ksef_from=date(2026, 2, 1)) is numbered


def test_ksef_start_is_a_setting_defaulting_to_the_largest_taxpayers_date() -> None:
    assert Settings(LEASEHUB_ENV="test").ksef_from == date(2026, 2, 1)
    later = Settings(LEASEHUB_ENV="test", LEASEHUB_KSEF_FROM="2026-04-01")
    assert later.ksef_from == date(2026, 4, 1)
