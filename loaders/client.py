"""Loaders of clients and their repayment accounts."""

from __future__ import annotations

from loaders.base import ByIdLoader, ManyByKeyLoader
from models.client import BankAccount, Client


class ClientByIdLoader(ByIdLoader[Client]):
    model = Client


class BankAccountByIdLoader(ByIdLoader[BankAccount]):
    model = BankAccount


class BankAccountsByClientIdLoader(ManyByKeyLoader[BankAccount]):
    model = BankAccount
    key = "client_id"
    order_by = ("is_default", "id")
