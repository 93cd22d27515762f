"""What each kind of record is: its columns, the records it names, and the checks that need
both (the API's own rules: VAT by kind from models.finance, a correction keeps the corrected
invoice's VAT, a contract's item belongs to the contract's client).

A file's header names the columns below; references name another record by its external id
(`client_external_id`, `contract_external_id`, …). Every other column is the table's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import SQLModel

from auth.scopes import ALL_SCOPES
from intake import fields as f
from models.client import Client
from models.contract import (
    Contract,
    ContractKind,
    ContractStatus,
    Currency,
    Instalment,
    InsurancePolicy,
    ItemCategory,
    LeasedItem,
    PolicyKind,
)
from models.document import Document, DocumentKind
from models.finance import VatTreatment, treatment_of, vat_amount, vat_for
from models.i18n import _
from models.identity import User
from models.invoice import Invoice, InvoiceKind, Payment, PaymentSource
from models.vat import VatCategory
from resolvers.errors import UserErrorData

Values = dict[str, Any]
Found = Mapping[Any, Any]  # the columns of a referenced record that the checks read
Refs = dict[str, Found | None]  # by reference name; None where the cell was empty


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # the file's header and the table's column
    parse: f.Parser
    required: bool = True
    default: Any = None


@dataclass(frozen=True, slots=True)
class Reference:
    name: str  # the file's header: the named record's external id
    model: type[SQLModel]
    column: str | None  # the column it fills with the named record's id
    required: bool = True
    reads: tuple[str, ...] = ("id", "client_id")


Complete = Callable[[Values, Refs], list[UserErrorData]]


def _nothing(_values: Values, _refs: Refs) -> list[UserErrorData]:
    return []


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    model: type[SQLModel]
    columns: tuple[Column, ...]
    references: tuple[Reference, ...] = ()
    # Derives the columns in `derived` from the references and checks what needs both.
    complete: Complete = _nothing
    derived: tuple[str, ...] = ()
    notices: bool = False  # new rows are announced (invoices: INV-8, AUTH-8)
    settles: bool = False  # open payments meet open invoices after a batch (booking.allocate)
    headers: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = ("external_id", *(c.name for c in self.columns), *(r.name for r in self.references))
        object.__setattr__(self, "headers", names)

    @property
    def stored(self) -> tuple[str, ...]:
        """The table's columns an import writes and compares."""
        own = (c.name for c in self.columns)
        refs = (r.column for r in self.references if r.column)
        return tuple(dict.fromkeys((*own, *refs, *self.derived)))


def _error(name: str, code: str, message: Any) -> UserErrorData:
    return UserErrorData(field=name, code=code, message=message)


CLIENT = Reference(
    "client_external_id", Client, "client_id", reads=("id", "name", "number", "einvoice_email")
)
CONTRACT = Reference(
    "contract_external_id", Contract, "contract_id", reads=("id", "client_id", "kind", "currency")
)


def _of_contract(values: Values, refs: Refs) -> list[UserErrorData]:
    """Items, schedules and policies belong to their contract's client."""
    contract = refs[CONTRACT.name]
    assert contract is not None
    values["client_id"] = contract["client_id"]
    return []


def _same_client(values: Values, refs: Refs, name: str) -> list[UserErrorData]:
    """A record named beside the client must be that client's: another's is refused."""
    named = refs.get(name)
    if named is None or named["client_id"] == values["client_id"]:
        return []
    message = _("The record named belongs to another client.")
    return [_error(name, "REFERENCE_MISMATCH", message)]


def _vat_errors(values: Values, treatment: VatTreatment, taxed: Any) -> list[UserErrorData]:
    """VAT as the API computes it from the net (or the tax base), and gross = net + VAT."""
    category = treatment.category
    values.update(vat_category=category, vat_rate=category.percent)
    errors = []
    if values["vat"] != vat_amount(taxed, category):
        message = _(
            "VAT at {rate} of {net} is {vat}.",
            rate=category.label,
            net=taxed,
            vat=vat_amount(taxed, category),
        )
        errors.append(_error("vat", "INVALID_VAT", message))
    if values["gross"] != values["net"] + values["vat"]:
        message = _("The gross amount must be the net plus the VAT.")
        errors.append(_error("gross", "INVALID_AMOUNT", message))
    return errors


def _instalment(values: Values, refs: Refs) -> list[UserErrorData]:
    _of_contract(values, refs)
    contract = refs[CONTRACT.name]
    assert contract is not None
    law = vat_for(contract_kind=contract["kind"], invoice_kind=InvoiceKind.INSTALMENT)
    chosen = values.pop("vat_category")
    treatment = law if chosen is None else VatTreatment(chosen)
    errors = _vat_errors(values, treatment, values["net"])
    if values["capital"] + values["interest"] != values["net"]:
        message = _("The net amount must be the capital plus the interest.")
        errors.append(_error("net", "INVALID_AMOUNT", message))
    return errors


CORRECTED = Reference(
    "corrects_external_id",
    Invoice,
    "corrects_id",
    required=False,
    reads=(
        "id",
        "client_id",
        "kind",
        "vat_category",
        "vat_basis",
        "contract_id",
        "issue_date",
        "currency",
    ),
)
INVOICE_CONTRACT = Reference(
    CONTRACT.name, Contract, "contract_id", required=False, reads=CONTRACT.reads
)


def _correction_errors(values: Values, corrected: Found | None) -> list[UserErrorData]:
    """The API's rules (resolvers/invoice_issue.py): a correction, and only one, names the
    invoice it corrects; that is not itself a correction and was issued no later."""
    name = CORRECTED.name
    correction = values["kind"] is InvoiceKind.CORRECTION
    if correction and corrected is None:
        message = _("A correcting invoice names the invoice it corrects (correctsId).")
        return [_error(name, "CORRECTED_INVOICE_REQUIRED", message)]
    if not correction and corrected is not None:
        message = _("Only a correcting invoice names a corrected invoice.")
        return [_error(name, "NOT_A_CORRECTION", message)]
    if corrected is None:
        return []
    if corrected["kind"] is InvoiceKind.CORRECTION:
        message = _("A correcting invoice corrects an invoice, not another correction.")
        return [_error(name, "CORRECTS_A_CORRECTION", message)]
    if values["issue_date"] < corrected["issue_date"]:
        message = _(
            "A correction cannot precede the invoice it corrects ({date}).",
            date=corrected["issue_date"],
        )
        return [_error("issue_date", "BEFORE_CORRECTED_ISSUE_DATE", message)]
    return []


def _net_errors(values: Values) -> list[UserErrorData]:
    """As the API: an invoice asks for money; a correction may lower it, but must change it."""
    if values["kind"] is InvoiceKind.CORRECTION:
        if values["net"] != 0:
            return []
        return [_error("net", "ZERO_AMOUNT", _("A correction must change the amount."))]
    return [] if values["net"] > 0 else [_error("net", "NOT_POSITIVE", _("Must be > 0."))]


def _invoice_treatment(values: Values, refs: Refs) -> tuple[VatTreatment, list[UserErrorData]]:
    chosen: VatCategory | None = values.pop("vat_category")
    corrected = refs.get(CORRECTED.name)
    if corrected is not None:
        kept = VatTreatment(corrected["vat_category"], corrected["vat_basis"])
        if chosen is None or chosen is kept.category:
            return kept, []
        message = _(
            "A correction keeps the VAT rate of the invoice it corrects ({rate}).",
            rate=kept.category.label,
        )
        return kept, [_error("vat_category", "VAT_DIFFERS_FROM_CORRECTED", message)]
    contract = refs.get(CONTRACT.name)
    contract_kind = None if contract is None else contract["kind"]
    if chosen is None:
        return vat_for(contract_kind=contract_kind, invoice_kind=values["kind"]), []
    return treatment_of(chosen, contract_kind=contract_kind, invoice_kind=values["kind"]), []


def _currency_errors(values: Values, refs: Refs) -> list[UserErrorData]:
    """As the API (resolvers/invoice_issue.py `_currency`): a correction is in the corrected
    invoice's currency, another invoice in its contract's, PLN without one. The file may
    leave it out; a different one is refused."""
    corrected, contract = refs.get(CORRECTED.name), refs.get(CONTRACT.name)
    if corrected is not None:
        expected = corrected["currency"]
        message = _(
            "A correction is in the currency of the invoice it corrects ({currency}).",
            currency=expected,
        )
    elif contract is not None:
        expected = contract["currency"]
        message = _("An invoice is in its contract's currency ({currency}).", currency=expected)
    else:
        expected = Currency.PLN
        message = _("An invoice without a contract is in {currency}.", currency=expected)
    given, values["currency"] = values["currency"], expected
    if given is None or given == expected:
        return []
    return [_error("currency", "CURRENCY_MISMATCH", message)]


def _invoice(values: Values, refs: Refs) -> list[UserErrorData]:
    client = refs[CLIENT.name]
    assert client is not None
    values["client_id"] = client["id"]
    corrected = refs.get(CORRECTED.name)
    errors = _same_client(values, refs, CONTRACT.name)
    errors += _same_client(values, refs, CORRECTED.name)
    errors += _correction_errors(values, corrected)
    if errors:
        values.pop("vat_category")
        return errors
    errors += _net_errors(values) + _currency_errors(values, refs)
    if corrected is not None and values["contract_id"] is None:
        values["contract_id"] = corrected["contract_id"]
    values["sale_date"] = values["sale_date"] or values["issue_date"]
    if values["due_date"] < values["issue_date"]:
        message = _("The due date cannot precede the issue date.")
        errors.append(_error("due_date", "BEFORE_ISSUE_DATE", message))
    treatment, vat_errors = _invoice_treatment(values, refs)
    values["vat_basis"] = treatment.basis
    taxed = values["tax_base"] if values["tax_base"] is not None else values["net"]
    return errors + vat_errors + _vat_errors(values, treatment, taxed)


def _of_client(values: Values, refs: Refs) -> list[UserErrorData]:
    client = refs[CLIENT.name]
    assert client is not None
    values["client_id"] = client["id"]
    return []


def _contract(values: Values, refs: Refs) -> list[UserErrorData]:
    _of_client(values, refs)
    if values["end_date"] < values["start_date"]:
        message = _("The end date cannot precede the start date.")
        return [_error("end_date", "BEFORE_START_DATE", message)]
    return []


def _document(values: Values, refs: Refs) -> list[UserErrorData]:
    _of_client(values, refs)
    return _same_client(values, refs, CONTRACT.name) + _same_client(
        values, refs, DOCUMENT_INVOICE.name
    )


def _payment(values: Values, refs: Refs) -> list[UserErrorData]:
    _of_client(values, refs)
    if values["amount"] > 0:
        return []
    return [_error("amount", "NOT_POSITIVE", _("Must be > 0."))]


DOCUMENT_INVOICE = Reference(
    "invoice_external_id", Invoice, "invoice_id", required=False, reads=("id", "client_id")
)
DOCUMENT_CONTRACT = Reference(
    CONTRACT.name, Contract, "contract_id", required=False, reads=("id", "client_id")
)


def _optional(name: str, parse: f.Parser, default: Any = None) -> Column:
    return Column(name, parse, required=False, default=default)


USER_CLIENT = Reference("client_external_id", Client, None, reads=("id",))
MAIN_SCOPES = sorted(scope.value for scope in ALL_SCOPES)  # what a main account holds


def _user(values: Values, refs: Refs) -> list[UserErrorData]:
    """A subaccount holds the scopes given (none when empty); a main account holds all."""
    client = refs[USER_CLIENT.name]
    assert client is not None
    values["client_id"] = client["id"]
    if not values["is_main"]:
        values["scopes"] = values["scopes"] or []
        return []
    if values["scopes"]:
        message = _("A main account holds every scope: scopes are given for a subaccount only.")
        return [_error("scopes", "INVALID_SCOPE", message)]
    values["scopes"] = MAIN_SCOPES
    return []


# Users to invite: the person's row in `users`, their membership in the company (is_main,
# scopes) and, for someone new, an invitation (intake/users.py writes them).
USERS = Kind(
    "users",
    User,
    (
        Column("email", f.email),
        Column("first_name", f.text(100)),
        Column("last_name", f.text(100)),
        _optional("phone", f.text(20)),
        Column("is_main", f.flag),
        _optional("scopes", f.scopes),
    ),
    (USER_CLIENT,),
    _user,
)


def kinds(today: date) -> dict[str, Kind]:
    """Every kind by its name on the command line; `today` bounds the dates invoices and
    payments may carry, as in the API."""
    dated = f.dated(today)
    money, text = f.money, f.text
    return {
        kind.name: kind
        for kind in (
            Kind(
                "clients",
                Client,
                (
                    Column("number", text(16)),
                    Column("name", text(200)),
                    Column("nip", f.nip),
                    Column("regon", f.regon),
                    Column("street", text(200)),
                    Column("postal_code", text(6)),
                    Column("city", text(100)),
                    _optional("country", text(2), "PL"),
                    Column("email", f.email),
                    Column("phone", text(20)),
                    Column("einvoice_email", f.email),
                ),
            ),
            USERS,
            Kind(
                "contracts",
                Contract,
                (
                    Column("number", text(32)),
                    Column("kind", f.choice(ContractKind)),
                    Column("status", f.choice(ContractStatus)),
                    _optional("currency", f.choice(Currency), Currency.PLN),
                    Column("start_date", f.iso_date),
                    Column("end_date", f.iso_date),
                    Column("net_value", money),
                    Column("initial_fee", money),
                    Column("residual_value", money),
                    Column("annual_rate", f.rate),
                    Column("term_months", f.whole),
                    Column("payment_day", f.whole),
                ),
                (CLIENT,),
                _contract,
                ("client_id",),
            ),
            Kind(
                "items",
                LeasedItem,
                (
                    Column("category", f.choice(ItemCategory)),
                    Column("name", text(200)),
                    Column("manufacturer", text(100)),
                    Column("model", text(100)),
                    _optional("serial_number", text(64)),
                    _optional("vin", text(17)),
                    _optional("registration_number", text(10)),
                    Column("production_year", f.whole),
                    Column("net_value", money),
                    _optional("split_payment_goods", f.flag, False),
                ),
                (CONTRACT,),
                _of_contract,
                ("client_id",),
            ),
            Kind(
                "schedules",
                Instalment,
                (
                    Column("number", f.whole),
                    Column("due_date", f.iso_date),
                    Column("capital", money),
                    Column("interest", money),
                    Column("net", money),
                    _optional("vat_category", f.choice(VatCategory)),
                    Column("vat", money),
                    Column("gross", money),
                    Column("remaining_capital", money),
                ),
                (CONTRACT,),
                _instalment,
                ("client_id", "vat_category", "vat_rate"),
            ),
            Kind(
                "policies",
                InsurancePolicy,
                (
                    Column("kind", f.choice(PolicyKind)),
                    Column("insurer", text(100)),
                    Column("policy_number", text(40)),
                    Column("start_date", f.iso_date),
                    Column("end_date", f.iso_date),
                    Column("sum_insured", money),
                    Column("premium", money),
                ),
                (CONTRACT,),
                _of_contract,
                ("client_id",),
            ),
            Kind(
                "invoices",
                Invoice,
                (
                    Column("number", text(32)),
                    Column("kind", f.choice(InvoiceKind)),
                    _optional("ksef_number", f.ksef),
                    Column("issue_date", dated),
                    _optional("sale_date", dated),
                    Column("due_date", dated),
                    _optional("currency", f.choice(Currency)),  # the contract's when empty
                    _optional("vat_category", f.choice(VatCategory)),
                    Column("net", money),
                    Column("vat", money),
                    Column("gross", money),
                    _optional("tax_base", money),
                    _optional("split_payment", f.flag, False),
                    _optional("description", text(300), ""),
                ),
                (CLIENT, INVOICE_CONTRACT, CORRECTED),
                _invoice,
                ("client_id", "vat_category", "vat_rate", "vat_basis"),
                notices=True,
                settles=True,
            ),
            Kind(
                "payments",
                Payment,
                (
                    Column("booked_on", dated),
                    Column("amount", money),
                    _optional("currency", f.choice(Currency), Currency.PLN),
                    Column("title", text(200)),
                    _optional("payer_iban", f.iban),
                    _optional("source", f.choice(PaymentSource), PaymentSource.TRANSFER),
                ),
                (CLIENT,),
                _payment,
                ("client_id",),
                settles=True,
            ),
            Kind(
                "documents",
                Document,
                (
                    Column("kind", f.choice(DocumentKind)),
                    Column("number", text(32)),
                    Column("title", text(200)),
                    Column("issue_date", dated),
                    _optional("amount", money),
                    _optional("currency", f.choice(Currency), Currency.PLN),
                ),
                (CLIENT, DOCUMENT_CONTRACT, DOCUMENT_INVOICE),
                _document,
                ("client_id",),
            ),
        )
    }
