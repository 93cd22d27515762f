"""The request catalogue as forms (REQ-1): category → type → kind, each kind with the form a portal
renders from the API alone, in the guide's words (seeds/001, "Złożenie wniosku").

This module is the one description of every form: `requestCatalogue` answers it, and filing
validates against the same data (`FORMS`, `PRODUCT_LIMITS`, `PAYMENT_DAYS`). The names and
descriptions of the kinds are `REQUEST_TYPES` (resolvers/request.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import Decimal

from models.attachment import DOCUMENT_KINDS, AttachmentKind
from models.contract import Contract, ContractKind, Currency
from models.finance import round_money
from models.i18n import Msg, _
from models.request import RequestType
from resolvers.ids import to_global_id
from resolvers.request import REQUEST_TYPES


class RequestCategory(enum.StrEnum):
    """The guide: "wniosek dotyczący przedmiotu leasingu, zmian w umowie lub w innej sprawie"."""

    LEASED_ITEM = "LEASED_ITEM"
    CONTRACT = "CONTRACT"
    OTHER = "OTHER"


class FormFieldKind(enum.StrEnum):
    CONTRACT = "CONTRACT"  # a contract id of the company
    DAY_OF_MONTH = "DAY_OF_MONTH"
    MONEY = "MONEY"  # a decimal with two places
    CURRENCY = "CURRENCY"
    PERCENT = "PERCENT"
    MONTHS = "MONTHS"
    TEXT = "TEXT"
    CHOICE = "CHOICE"  # one of `options`
    INSTALMENT_AMOUNTS = "INSTALMENT_AMOUNTS"  # [{number, net}] of unpaid future instalments
    CONTACT_PERSON = "CONTACT_PERSON"  # {name, phone, email}
    ATTACHMENT = "ATTACHMENT"  # attachment ids, under the form's attachment rule


class InstalmentOption(enum.StrEnum):
    """The guide's three options of a schedule change (arithmetic: resolvers/simulation)."""

    KEEP = "KEEP"  # "Utrzymać na obecnym poziomie – wysokość raty pozostaje bez zmiany"
    AUTO = "AUTO"  # "Dopasować automatycznie – wysokość raty przeliczy się automatycznie"
    CUSTOM = "CUSTOM"  # "Zmienić wysokość – wybrana rata zmienia się do wskazanej wysokości"


# The guide: "Dostępne wartości to: 15/ 20/ 25".
PAYMENT_DAYS = (15, 20, 25)
# The guide: "Dostępne wartości: PLN/ EUR/ CHF".
PRICE_CURRENCIES = (Currency.PLN, Currency.EUR, Currency.CHF)


@dataclass(frozen=True, slots=True)
class ProductLimits:
    """What the lessor's products allow a schedule change to set: residual value as a percentage
    of the net purchase value, and the whole period in months from the start."""

    residual_percent: tuple[Decimal, Decimal]
    months: tuple[int, int]


# The products of the demo lessor (hub/demo/contract.py draws residuals of 1–30 % and terms of
# 24–60 months). An operating lease must last at least 40 % of the asset's normal depreciation
# period to stay an operating lease for tax (art. 17b ust. 1 pkt 1 CIT, art. 23b ust. 1 pkt 1
# PIT): 24 months for vehicles (20 % a year, annex to the CIT Act); a financial lease and a loan
# have no such floor, the lessor's product starts at 12 months. 84 months is the longest product.
PRODUCT_LIMITS: dict[ContractKind, ProductLimits] = {
    ContractKind.OPERATING_LEASE: ProductLimits((Decimal(1), Decimal(30)), (24, 84)),
    ContractKind.FINANCIAL_LEASE: ProductLimits((Decimal(1), Decimal(30)), (12, 84)),
    ContractKind.LOAN: ProductLimits((Decimal(0), Decimal(30)), (12, 84)),
}


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: Msg


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label: Msg
    kind: FormFieldKind
    required: bool = True
    options: tuple[Option, ...] = ()
    default: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    id: str
    text: Msg


@dataclass(frozen=True, slots=True)
class AttachmentRule:
    required: bool
    kinds: tuple[AttachmentKind, ...] = DOCUMENT_KINDS  # sizes: resolvers.attachments.max_bytes


@dataclass(frozen=True, slots=True)
class KindForm:
    kind: RequestType
    label: Msg  # the guide's word in the kind list ("Data płatności raty")
    fields: tuple[FormField, ...]
    statements: tuple[Statement, ...]
    attachments: AttachmentRule

    @property
    def needs_contract(self) -> bool:
        return any(field.kind is FormFieldKind.CONTRACT for field in self.fields)


@dataclass(frozen=True, slots=True)
class TypeEntry:
    code: str
    label: Msg
    kinds: tuple[KindForm, ...]


@dataclass(frozen=True, slots=True)
class CategoryEntry:
    category: RequestCategory
    label: Msg
    types: tuple[TypeEntry, ...]


TRUTHFUL = Statement("TRUTHFUL", _("I declare that the data given in this request are true."))
FEES = Statement(
    "FEES",
    _("I accept that handling this request may be charged under the lessor's table of fees."),
)
PROCESSING = Statement(
    "PROCESSING",
    _("I consent to the processing of the contact person's data to handle this request."),
)
STATEMENTS = (TRUTHFUL, PROCESSING)
PAID_STATEMENTS = (TRUTHFUL, FEES, PROCESSING)

CONTRACT_FIELD = FormField("contractId", _("Contract number"), FormFieldKind.CONTRACT)
CONTACT_FIELD = FormField("contact", _("Contact person"), FormFieldKind.CONTACT_PERSON)


def _text(
    name: str, label: Msg, *, required: bool = True, max_length: int | None = None
) -> FormField:
    """A text field; `max_length` where the text ends in a column of ours (a company's
    address), else filing's general limit."""
    limit = None if max_length is None else Decimal(max_length)
    return FormField(name, label, FormFieldKind.TEXT, required=required, max=limit)


def _address(*, required: bool) -> tuple[FormField, ...]:
    """A company's address as `clients` stores it: accepting the request writes it there."""
    return (
        _text("street", _("Street and number"), required=required, max_length=200),
        _text("postalCode", _("Postal code"), required=required, max_length=6),
        _text("city", _("City"), required=required, max_length=100),
    )


def _attachments(rule: AttachmentRule) -> FormField:
    return FormField(
        "attachmentIds", _("Attachments"), FormFieldKind.ATTACHMENT, required=rule.required
    )


def _form(
    kind: RequestType,
    label: Msg,
    fields: tuple[FormField, ...],
    *,
    attachments: AttachmentRule,
    statements: tuple[Statement, ...] = STATEMENTS,
) -> KindForm:
    """A kind's form: its own fields, then the attachments, the contact person and statements,
    in the guide's order of steps."""
    every = (*fields, _attachments(attachments), CONTACT_FIELD)
    return KindForm(kind, label, every, statements, attachments)


PAYMENT_DAY_REASONS = (
    Option("CASH_FLOW", _("Matching the company's cash flow")),
    Option("CUSTOMER_PAYMENTS", _("Payments from the company's customers come later")),
    Option("SAME_DAY_AS_OTHER_CONTRACTS", _("The same day as the company's other contracts")),
    Option("OTHER", _("Other (own reason)")),
)
CONTRACT_VALUE_CHANGES = (
    Option("NEW_PURCHASE_PRICE", _("New purchase price")),
    Option("ADDITIONAL_EQUIPMENT", _("Additional equipment")),
)
INSTALMENT_OPTIONS = (
    Option(InstalmentOption.KEEP, _("Keep at the current level")),
    Option(InstalmentOption.AUTO, _("Adjust automatically")),
    Option(InstalmentOption.CUSTOM, _("Change the amount")),
)

PAYMENT_DAY_FORM = _form(
    RequestType.PAYMENT_DAY_CHANGE,
    _("Instalment payment date"),
    (
        CONTRACT_FIELD,
        FormField(
            "day",
            _("Day of the month the instalment is paid"),
            FormFieldKind.DAY_OF_MONTH,
            options=tuple(Option(str(day), _("{day}th", day=day)) for day in PAYMENT_DAYS),
        ),
        FormField(
            "reason", _("Reason for the change"), FormFieldKind.CHOICE, options=PAYMENT_DAY_REASONS
        ),
        _text("reasonText", _("Own reason (when Other)"), required=False),
    ),
    attachments=AttachmentRule(required=False),
)
CONTRACT_VALUE_FORM = _form(
    RequestType.CONTRACT_VALUE_CHANGE,
    _("Contract value change / additional equipment"),
    (
        CONTRACT_FIELD,
        FormField(
            "change", _("What changes"), FormFieldKind.CHOICE, options=CONTRACT_VALUE_CHANGES
        ),
        FormField(
            "netAmount", _("Net amount after the change"), FormFieldKind.MONEY, min=Decimal("0.01")
        ),
        FormField(
            "currency",
            _("Currency of the price"),
            FormFieldKind.CURRENCY,
            options=(
                Option(Currency.PLN.value, _("Polish zloty (PLN)")),
                Option(Currency.EUR.value, _("Euro (EUR)")),
                Option(Currency.CHF.value, _("Swiss franc (CHF)")),
            ),
        ),
    ),
    attachments=AttachmentRule(required=True),
    statements=PAID_STATEMENTS,
)
SCHEDULE_FORM = _form(
    RequestType.SCHEDULE_CHANGE,
    _("Schedule change"),
    (
        CONTRACT_FIELD,
        FormField(
            "residualPercent",
            _("New residual value of the contract (%)"),
            FormFieldKind.PERCENT,
            required=False,
        ),
        FormField("months", _("New lease period (months)"), FormFieldKind.MONTHS, required=False),
        FormField(
            "instalments",
            _("Instalment amount"),
            FormFieldKind.CHOICE,
            options=INSTALMENT_OPTIONS,
            default=InstalmentOption.AUTO.value,
        ),
        FormField(
            "amounts",
            _("New instalment amounts (net)"),
            FormFieldKind.INSTALMENT_AMOUNTS,
            required=False,
            min=Decimal("0.01"),
        ),
    ),
    attachments=AttachmentRule(required=False),
    statements=PAID_STATEMENTS,
)

_ONLY_KIND_LABEL = {kind: name for kind, (name, _description) in REQUEST_TYPES.items()}


def _single(
    kind: RequestType,
    fields: tuple[FormField, ...],
    *,
    attachments: AttachmentRule = AttachmentRule(required=False),
    statements: tuple[Statement, ...] = STATEMENTS,
) -> TypeEntry:
    """A type with one kind: both are named as REQUEST_TYPES names the kind."""
    label = _ONLY_KIND_LABEL[kind]
    form = _form(kind, label, fields, attachments=attachments, statements=statements)
    return TypeEntry(kind.value, label, (form,))


CATALOGUE: tuple[CategoryEntry, ...] = (
    CategoryEntry(
        RequestCategory.LEASED_ITEM,
        _("Leased item"),
        (
            _single(
                RequestType.POLICY_DUPLICATE,
                (CONTRACT_FIELD, _text("policyNumber", _("Policy number"), required=False)),
            ),
            _single(
                RequestType.DRIVING_ABROAD_AUTHORISATION,
                (
                    CONTRACT_FIELD,
                    _text("driverName", _("Driver's first name and surname")),
                    _text("countries", _("Countries of the journey")),
                    FormField(
                        "periodMonths",
                        _("Period of the authorisation (months)"),
                        FormFieldKind.MONTHS,
                        min=Decimal(1),
                        max=Decimal(12),
                    ),
                ),
                statements=PAID_STATEMENTS,
            ),
        ),
    ),
    CategoryEntry(
        RequestCategory.CONTRACT,
        _("Changes in the contract"),
        (
            TypeEntry(
                "SCHEDULE_CHANGES",
                REQUEST_TYPES[RequestType.SCHEDULE_CHANGE][0],
                (PAYMENT_DAY_FORM, CONTRACT_VALUE_FORM, SCHEDULE_FORM),
            ),
            _single(
                RequestType.EARLY_TERMINATION_OFFER,
                (CONTRACT_FIELD, _text("comment", _("Comment"), required=False)),
            ),
            _single(
                RequestType.SCHEDULE_CHANGE_OFFER,
                (CONTRACT_FIELD, _text("comment", _("Changes you expect"))),
            ),
        ),
    ),
    CategoryEntry(
        RequestCategory.OTHER,
        _("Other matter"),
        (
            _single(
                RequestType.COOPERATION_OPINION,
                (
                    _text("purpose", _("Purpose of the opinion")),
                    _text("addressee", _("Addressee of the opinion"), required=False),
                ),
            ),
            _single(
                RequestType.REGISTERED_OFFICE_CHANGE,
                _address(required=True),
                # The lessor needs the register's entry of the new office (KRS / CEIDG).
                attachments=AttachmentRule(required=True),
            ),
            _single(
                RequestType.CLIENT_DATA_CHANGE,
                (
                    _text("email", _("Company e-mail"), required=False, max_length=254),
                    _text("phone", _("Company phone"), required=False, max_length=20),
                    *_address(required=False),
                ),
            ),
        ),
    ),
)

FORMS: dict[RequestType, KindForm] = {
    form.kind: form for category in CATALOGUE for entry in category.types for form in entry.kinds
}
CATEGORY_OF: dict[RequestType, RequestCategory] = {
    form.kind: category.category
    for category in CATALOGUE
    for entry in category.types
    for form in entry.kinds
}


def residual_percent(contract: Contract) -> Decimal:
    """The contract's residual value as a percentage of its net purchase value."""
    return round_money(contract.residual_value * 100 / contract.net_value)


def with_contract(form: KindForm, contract: Contract | None) -> KindForm:
    """The form with what the chosen contract decides: its id, its current payment day (the
    guide: "Początkowa wartość wyświetlana to obecny dzień miesiąca"), its currency, its residual
    percentage and period, and the limits of its product."""
    if contract is None or not form.needs_contract:
        return form
    return replace(form, fields=tuple(_for_contract(field, contract) for field in form.fields))


def _for_contract(field: FormField, contract: Contract) -> FormField:
    limits = PRODUCT_LIMITS[contract.kind]
    if field.kind is FormFieldKind.CONTRACT:
        return replace(field, default=to_global_id("Contract", contract.id or 0))
    if field.name == "day" and field.kind is FormFieldKind.DAY_OF_MONTH:
        return replace(field, default=str(contract.payment_day))
    if field.kind is FormFieldKind.CURRENCY:
        return replace(field, default=contract.currency.value)
    if field.name == "residualPercent":
        low, high = limits.residual_percent
        return replace(field, default=str(residual_percent(contract)), min=low, max=high)
    if field.name == "months" and field.kind is FormFieldKind.MONTHS:
        low_months, high_months = limits.months
        return replace(
            field,
            default=str(contract.term_months),
            min=Decimal(low_months),
            max=Decimal(high_months),
        )
    return field


def catalogue_for(contract: Contract | None) -> tuple[CategoryEntry, ...]:
    """The catalogue, its contract forms filled in for `contract` when one is chosen."""
    if contract is None:
        return CATALOGUE
    return tuple(
        replace(
            category,
            types=tuple(
                replace(entry, kinds=tuple(with_contract(form, contract) for form in entry.kinds))
                for entry in category.types
            ),
        )
        for category in CATALOGUE
    )
