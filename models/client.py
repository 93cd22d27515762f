"""Client companies and the bank accounts they repay to."""

from __future__ import annotations

from sqlmodel import Field

from models.base import Timestamped, client_fk, external_id_field


class Client(Timestamped, table=True):
    __tablename__ = "clients"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = external_id_field()
    number: str = Field(max_length=16, unique=True, index=True)
    name: str = Field(max_length=200, index=True)
    nip: str = Field(max_length=10, unique=True, index=True)
    regon: str = Field(max_length=14)
    street: str = Field(max_length=200)
    postal_code: str = Field(max_length=6)
    city: str = Field(max_length=100)
    country: str = Field(default="PL", max_length=2)
    email: str = Field(max_length=254)
    phone: str = Field(max_length=20)
    einvoice_email: str = Field(max_length=254)


class BankAccount(Timestamped, table=True):
    """An account the client pays instalments to (usually a virtual account of the lessor)."""

    __tablename__ = "bank_accounts"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    iban: str = Field(max_length=34)
    bank_name: str = Field(max_length=100)
    currency: str = Field(default="PLN", max_length=3)
    is_default: bool = Field(default=False)
