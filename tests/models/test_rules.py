"""Polish data rules: identifiers, the annuity schedule and the settlement rule."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from models.finance import annuity_payment, delay_days, late_interest, repayment_schedule
from models.identifiers import (
    crc8,
    is_valid_iban,
    is_valid_ksef_number,
    is_valid_nip,
    is_valid_regon,
    make_iban,
    make_ksef_number,
    make_nip,
    make_regon,
)
from models.invoice import InvoiceKind
from models.settlement import InvoiceStatus, amount_due, invoice_status


def test_made_identifiers_pass_stdnum_validation() -> None:
    rng = random.Random(3)
    for _ in range(200):
        assert is_valid_nip(make_nip(rng))
        assert is_valid_regon(make_regon(rng))
        assert is_valid_iban(make_iban(rng, "1090101"))


def test_known_identifiers() -> None:
    assert is_valid_nip("5260250274") and not is_valid_nip("5260250275")
    assert is_valid_iban("PL61109010140000071219812874")
    assert not is_valid_iban("PL61109010140000071219812875")


def test_ksef_number_checksum_is_crc8_of_the_first_32_characters() -> None:
    number = make_ksef_number(random.Random(1), "5260250274", date(2026, 1, 5))
    assert len(number) == 35 and number.startswith("5260250274-20260105-")
    assert int(number[-2:], 16) == crc8(number[:32].encode())
    assert is_valid_ksef_number(number)
    broken = number[:-2] + f"{(int(number[-2:], 16) + 1) % 256:02X}"
    assert not is_valid_ksef_number(broken)


def test_crc8_matches_the_standard_check_value() -> None:
    assert crc8(b"123456789") == 0xF4  # CRC-8 (poly 0x07) catalogue check value


@pytest.mark.parametrize("rate", [Decimal("0.0899"), Decimal("0")])
def test_schedule_ends_at_residual_with_equal_instalments(rate: Decimal) -> None:
    rows = list(
        repayment_schedule(
            capital=Decimal("100000.00"),
            annual_rate=rate,
            months=36,
            residual=Decimal("10000.00"),
            first_due=date(2026, 1, 31),
            payment_day=31,
        )
    )
    payment = annuity_payment(Decimal("100000.00"), rate, 36, Decimal("10000.00"))
    assert rows[-1].remaining_capital == Decimal("10000.00")
    assert all(row.net == payment for row in rows[:-1])
    assert abs(rows[-1].net - payment) <= Decimal("0.50")
    assert sum(row.capital for row in rows) == Decimal("90000.00")
    assert rows[1].due_date == date(2026, 2, 28)


def test_annuity_formula_value() -> None:
    # P = (C·r·(1+r)^N − F·r) / ((1+r)^N − 1) for C=100000, 12%/yr, N=12, F=0
    assert annuity_payment(Decimal(100000), Decimal("0.12"), 12, Decimal(0)) == Decimal("8884.88")


def test_invoice_status_rule() -> None:
    def status(paid: str, corrected: str = "0", due: date = date(2026, 5, 1)) -> InvoiceStatus:
        return invoice_status(
            kind=InvoiceKind.INSTALMENT,
            gross=Decimal("100"),
            due_date=due,
            paid=Decimal(paid),
            corrected=Decimal(corrected),
            today=date(2026, 4, 1),
        )

    assert status("0") is InvoiceStatus.UNPAID
    assert status("40") is InvoiceStatus.PARTIALLY_PAID
    assert status("100") is InvoiceStatus.PAID
    assert status("60", corrected="-40") is InvoiceStatus.PAID
    assert status("40", due=date(2026, 3, 31)) is InvoiceStatus.OVERDUE
    assert amount_due(
        kind=InvoiceKind.INSTALMENT, gross=Decimal("100"), paid=Decimal("150"), corrected=Decimal(0)
    ) == Decimal("0.00")


def test_late_interest_counts_both_ends_of_the_delay_and_rounds_half_up() -> None:
    assert delay_days(date(2026, 10, 1), date(2026, 10, 1)) == 1
    assert delay_days(date(2026, 10, 1), date(2026, 10, 31)) == 31
    # 10,000.00 × 11.75 % × 31 / 365 = 99.7945…; 36.50 × 5 % × 1 / 365 = 0.005 exactly
    rate = Decimal("0.1175")
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    interest = late_interest(Decimal("10000"), annual_rate=rate, first_day=first, last_day=last)
    assert interest == Decimal("99.79")
    half = late_interest(
        Decimal("36.50"), annual_rate=Decimal("0.05"), first_day=first, last_day=first
    )
    assert half == Decimal("0.01")  # 0.005 rounds up, not to even
