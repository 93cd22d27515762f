"""Lease contracts, their leased items, repayment schedules and insurance policies."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type, external_id_field, money_field
from models.vat import VatCategory


class ContractKind(enum.StrEnum):
    OPERATING_LEASE = "OPERATING_LEASE"
    FINANCIAL_LEASE = "FINANCIAL_LEASE"
    LOAN = "LOAN"


class ContractStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    TERMINATED = "TERMINATED"


class Currency(enum.StrEnum):
    PLN = "PLN"
    EUR = "EUR"
    CHF = "CHF"


class ItemCategory(enum.StrEnum):
    VEHICLE = "VEHICLE"
    MACHINE = "MACHINE"
    IT_EQUIPMENT = "IT_EQUIPMENT"


class PolicyKind(enum.StrEnum):
    OC_AC = "OC_AC"
    PROPERTY = "PROPERTY"
    GAP = "GAP"


class Contract(Timestamped, table=True):
    __tablename__ = "contracts"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    client_id: int = client_fk()
    number: str = Field(max_length=32, unique=True)
    kind: ContractKind = Field(sa_type=enum_type(ContractKind))
    status: ContractStatus = Field(sa_type=enum_type(ContractStatus), index=True)
    currency: Currency = Field(default=Currency.PLN, sa_type=enum_type(Currency))
    start_date: date
    end_date: date
    net_value: Decimal = money_field()
    initial_fee: Decimal = money_field()
    residual_value: Decimal = money_field()
    annual_rate: Decimal = Field(max_digits=7, decimal_places=4)
    term_months: int
    payment_day: int


class LeasedItem(Timestamped, table=True):
    __tablename__ = "leased_items"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    client_id: int = client_fk()
    contract_id: int = Field(foreign_key="contracts.id", index=True, ondelete="CASCADE")
    category: ItemCategory = Field(sa_type=enum_type(ItemCategory))
    name: str = Field(max_length=200)
    manufacturer: str = Field(max_length=100)
    model: str = Field(max_length=100)
    serial_number: str | None = Field(default=None, max_length=64)
    vin: str | None = Field(default=None, max_length=17)
    registration_number: str | None = Field(default=None, max_length=10)
    production_year: int
    net_value: Decimal = money_field()
    # Goods of annex 15 of the VAT Act (computers, PKWiU 26.20.1; phones; processors …): their
    # delivery under a financial lease is invoiced with the split-payment note above 15,000 PLN
    # (art. 108a ust. 1a). Set by whoever registers the item; vehicles and machines are not.
    split_payment_goods: bool = Field(default=False)


class Instalment(Timestamped, table=True):
    """One row of a repayment schedule; settled through the invoice issued for it."""

    __tablename__ = "instalments"
    __table_args__ = (sa.UniqueConstraint("contract_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    client_id: int = client_fk()
    contract_id: int = Field(foreign_key="contracts.id", index=True, ondelete="CASCADE")
    number: int
    due_date: date = Field(index=True)
    capital: Decimal = money_field()
    interest: Decimal = money_field()
    net: Decimal = money_field()
    vat_rate: int = Field(default=23)  # the percentage; 0 for zw and np
    vat_category: VatCategory = Field(default=VatCategory.RATE_23, sa_type=enum_type(VatCategory))
    vat: Decimal = money_field()
    gross: Decimal = money_field()
    remaining_capital: Decimal = money_field()
    invoice_id: int | None = Field(
        default=None, foreign_key="invoices.id", index=True, ondelete="SET NULL"
    )


class InsurancePolicy(Timestamped, table=True):
    __tablename__ = "insurance_policies"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    client_id: int = client_fk()
    contract_id: int = Field(foreign_key="contracts.id", index=True, ondelete="CASCADE")
    kind: PolicyKind = Field(sa_type=enum_type(PolicyKind))
    insurer: str = Field(max_length=100)
    policy_number: str = Field(max_length=40)
    start_date: date
    end_date: date
    sum_insured: Decimal = money_field()
    premium: Decimal = money_field()
