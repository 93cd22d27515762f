"""Bank statement lines as imported (INV-3): what a statement said, once.

One row per credit line of an imported MT940 statement, matched or not. Its unique key is the
line's place in the bank's own numbering: the account of field 25, the statement of field 28C
(number/sequence, with the opening balance's date, as banks restart the numbering each year),
and the line's position in that statement. The bank reference of field 61 is kept but is not
the key: it is optional, many Polish banks send "NONREF" there, and it is unique only within
one bank. Re-importing a file, or two imports of it at once, meet this key and book nothing
twice; the row points at the `Payment` it booked (none when no company was recognised).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from models.base import Timestamped, money_field


class StatementLine(Timestamped, table=True):
    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("account", "statement", "position", name="uq_statement_lines_line"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=34)  # field 25, as an IBAN without spaces
    statement: str = Field(max_length=40)  # "00123/001@2026-11-27": 28C and the 60F date
    position: int  # 1-based, among all lines (debits too) of that statement
    bank_reference: str | None = Field(default=None, max_length=40)
    value_date: date
    amount: Decimal = money_field()
    currency: str = Field(default="PLN", max_length=3)
    title: str = Field(default="", max_length=400)
    payer_iban: str | None = Field(default=None, max_length=34)
    payer_name: str = Field(default="", max_length=200)
    file_name: str | None = Field(default=None, max_length=255)
    client_id: int | None = Field(
        default=None, foreign_key="clients.id", index=True, ondelete="SET NULL"
    )
    payment_id: int | None = Field(
        default=None, foreign_key="payments.id", index=True, ondelete="SET NULL"
    )
