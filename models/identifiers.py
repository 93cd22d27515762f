"""Polish identifiers: NIP, REGON, NRB/IBAN and KSeF invoice numbers.

Validation is python-stdnum's; the makers here exist for demo data and tests and produce numbers
that the same validators accept.
"""

from __future__ import annotations

import random
import re
from datetime import date

from stdnum import iban as std_iban
from stdnum.pl import nip as std_nip
from stdnum.pl import regon as std_regon

_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
_BRANCH_WEIGHTS = (3, 9, 7, 1, 3, 9, 7)
_KSEF_RE = re.compile(r"^(\d{10})-(\d{8})-([0-9A-F]{12})-([0-9A-F]{2})$")


def make_nip(rng: random.Random) -> str:
    while True:
        body = [rng.randint(1, 9), *(rng.randint(0, 9) for _ in range(8))]
        check = sum(w * d for w, d in zip(_NIP_WEIGHTS, body, strict=True)) % 11
        if check != 10:
            number = "".join(map(str, body)) + str(check)
            return std_nip.validate(number)


def make_regon(rng: random.Random) -> str:
    body = "".join(str(rng.randint(0, 9)) for _ in range(8))
    return std_regon.validate(body + std_regon.calc_check_digit(body))


def make_iban(rng: random.Random, bank_code: str) -> str:
    """A PL IBAN in a bank whose 7-digit branch code `bank_code` gets its own check digit."""
    branch_check = -sum(w * int(d) for w, d in zip(_BRANCH_WEIGHTS, bank_code, strict=True)) % 10
    account = "".join(str(rng.randint(0, 9)) for _ in range(16))
    bban = f"{bank_code}{branch_check}{account}"
    return std_iban.validate(f"PL{std_iban.calc_check_digits('PL00' + bban)}{bban}")


def _crc8_table(poly: int) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8_07 = _crc8_table(0x07)


def crc8(data: bytes) -> int:
    """CRC-8 with polynomial 0x07, no reflection, initial value 0 (KSeF's checksum)."""
    crc = 0
    for byte in data:
        crc = _CRC8_07[crc ^ byte]
    return crc


def carries_ksef_number(issued: date, *, ksef_from: date) -> bool:
    """Whether an invoice issued that day has a KSeF number: only those issued on or after
    the day the seller had to issue through KSeF (`LEASEHUB_KSEF_FROM`); KSeF gives the
    number when it accepts the invoice, and an invoice issued before has none, ever."""
    return issued >= ksef_from


def make_ksef_number(rng: random.Random, seller_nip: str, issued: date) -> str:
    head = f"{seller_nip}-{issued:%Y%m%d}-{rng.getrandbits(48):012X}"
    return f"{head}-{crc8(head.encode()):02X}"


def is_valid_ksef_number(number: str) -> bool:
    match = _KSEF_RE.match(number)
    if not match or not std_nip.is_valid(match.group(1)):
        return False
    return int(match.group(4), 16) == crc8(number[:32].encode())


def is_valid_nip(number: str) -> bool:
    return bool(std_nip.is_valid(number))


def is_valid_regon(number: str) -> bool:
    return bool(std_regon.is_valid(number))


def is_valid_iban(number: str) -> bool:
    return bool(std_iban.is_valid(number))
