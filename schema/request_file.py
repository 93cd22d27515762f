"""Filing a request, replying to one and marking its history read: resolvers/request_file.py.

The input names one typed part per kind, exactly one of them given (`ONE_KIND_REQUIRED`
otherwise): a `@oneOf` input would say so in the schema, but graphql-core answers its misuse
with a validation error, not with a code in `errors` like every other rule of the form. Each
part's fields are named as the request catalogue names the form's fields, and so are the
errors' `field`s.
"""

from __future__ import annotations

import dataclasses
import enum
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from models.contract import Currency
from models.request import RequestType
from resolvers import request_file
from resolvers.request_catalogue import InstalmentOption
from schema.base import Info
from schema.identity import UserError, user_errors
from schema.request import Request
from schema.simulation import INSTALMENT_OPTION, InstalmentAmountInput


@strawberry.enum(description="Reasons of a payment-day change, as the form lists them.")
class PaymentDayReason(enum.StrEnum):
    CASH_FLOW = "CASH_FLOW"
    CUSTOMER_PAYMENTS = "CUSTOMER_PAYMENTS"
    SAME_DAY_AS_OTHER_CONTRACTS = "SAME_DAY_AS_OTHER_CONTRACTS"
    OTHER = "OTHER"


@strawberry.enum(description="What a contract value change is: the guide's two options.")
class ContractValueChangeKind(enum.StrEnum):
    NEW_PURCHASE_PRICE = "NEW_PURCHASE_PRICE"
    ADDITIONAL_EQUIPMENT = "ADDITIONAL_EQUIPMENT"


@strawberry.input(description="The contact person of a request.")
class RequestContactInput:
    name: str
    phone: str = strawberry.field(
        description="Polish (9 digits, optionally +48) or international (+ and 8–15 digits)."
    )
    email: str


@strawberry.input(description="PAYMENT_DAY_CHANGE: the day instalments fall due.")
class PaymentDayChangeInput:
    day: int = strawberry.field(description="15, 20 or 25, not the current day.")
    reason: PaymentDayReason
    reason_text: str | None = strawberry.field(
        default=None, description="Required with reason OTHER."
    )


@strawberry.input(description="CONTRACT_VALUE_CHANGE: a new purchase price or equipment.")
class ContractValueChangeInput:
    change: ContractValueChangeKind
    net_amount: Decimal = strawberry.field(description="After the change: > 0, two places.")
    currency: Currency = strawberry.field(description="PLN, EUR or CHF.")


@strawberry.input(description="SCHEDULE_CHANGE: as contract.scheduleSimulation simulates it.")
class ScheduleChangeInput:
    residual_percent: Decimal | None = strawberry.field(
        default=None, description="New residual value, % of the net purchase value (2 places)."
    )
    months: int | None = strawberry.field(
        default=None, description="New whole period in months, counted from the start."
    )
    instalments: InstalmentOption = strawberry.field(
        default=InstalmentOption.AUTO, description=INSTALMENT_OPTION
    )
    amounts: list[InstalmentAmountInput] | None = strawberry.field(
        default=None, description="CUSTOM only: unpaid future instalments' new nets."
    )


@strawberry.input(description="COOPERATION_OPINION: a letter on the cooperation.")
class CooperationOpinionInput:
    purpose: str
    addressee: str | None = None


@strawberry.input(description="EARLY_TERMINATION_OFFER of the contract named in contractId.")
class EarlyTerminationOfferInput:
    comment: str | None = None


@strawberry.input(description="POLICY_DUPLICATE of the contract's insurance policy.")
class PolicyDuplicateInput:
    policy_number: str | None = None


@strawberry.input(description="DRIVING_ABROAD_AUTHORISATION for the contract's vehicle.")
class DrivingAbroadAuthorisationInput:
    driver_name: str
    countries: str
    period_months: int = strawberry.field(description="1–12.")


@strawberry.input(description="SCHEDULE_CHANGE_OFFER: the changes the client expects.")
class ScheduleChangeOfferInput:
    comment: str


@strawberry.input(description="REGISTERED_OFFICE_CHANGE: the new address (attach the entry).")
class RegisteredOfficeChangeInput:
    street: str
    postal_code: str = strawberry.field(description="00-000.")
    city: str


@strawberry.input(
    description="CLIENT_DATA_CHANGE: new contact data and/or a whole new address (at least one)."
)
class ClientDataChangeInput:
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None


@strawberry.input(
    description="A request to file: exactly one kind part, named after its kind (camelCase)."
)
class RequestFileInput:
    client_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description="1–64 printable ASCII characters, new for each request: the same key "
        "answers with the same request, nothing is filed twice."
    )
    contact: RequestContactInput
    accepted_statements: list[str] = strawberry.field(
        description="Exactly the ids of the form's statements."
    )
    contract_id: strawberry.ID | None = strawberry.field(
        default=None, description="Where the kind's form has a contract field; refused elsewhere."
    )
    attachment_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Uploaded files (purpose REQUEST), each used once."
    )
    payment_day_change: PaymentDayChangeInput | None = None
    contract_value_change: ContractValueChangeInput | None = None
    schedule_change: ScheduleChangeInput | None = None
    cooperation_opinion: CooperationOpinionInput | None = None
    early_termination_offer: EarlyTerminationOfferInput | None = None
    policy_duplicate: PolicyDuplicateInput | None = None
    driving_abroad_authorisation: DrivingAbroadAuthorisationInput | None = None
    schedule_change_offer: ScheduleChangeOfferInput | None = None
    registered_office_change: RegisteredOfficeChangeInput | None = None
    client_data_change: ClientDataChangeInput | None = None

    def filing(self) -> request_file.Filing:
        parts = {
            kind: form_values(part)
            for kind in RequestType
            if (part := getattr(self, kind.value.lower())) is not None
        }
        return request_file.Filing(
            client_global_id=self.client_id,
            idempotency_key=self.idempotency_key,
            contact=request_file.Contact(
                name=self.contact.name, phone=self.contact.phone, email=self.contact.email
            ),
            accepted_statements=tuple(self.accepted_statements),
            parts=parts,
            contract_global_id=self.contract_id,
            attachment_global_ids=tuple(self.attachment_ids or ()),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return form_values(value)
    return value


def form_values(part: Any) -> dict[str, Any]:
    """A kind part as the form's field names (camelCase, as the catalogue names them) and
    plain values."""
    return {
        to_camel_case(item.name): _plain(getattr(part, item.name))
        for item in dataclasses.fields(part)
    }


@strawberry.type
class RequestFilePayload:
    request: Request | None
    errors: list[UserError] = strawberry.field(
        description="Codes: ONE_KIND_REQUIRED, INVALID_IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_REUSED, "
        "REQUIRED, TOO_LONG, NOT_AN_OPTION, OUT_OF_RANGE, INVALID_AMOUNT, "
        "AMOUNT_TOO_LARGE, TOO_MANY_DECIMALS, NOT_POSITIVE, INVALID_EMAIL, INVALID_PHONE, "
        "INVALID_POSTAL_CODE, STATEMENT_NOT_ACCEPTED, UNKNOWN_STATEMENT, CONTRACT_NOT_ALLOWED, "
        "NOT_FOUND, CONTRACT_NOT_ACTIVE, REASON_TEXT_REQUIRED, NOTHING_TO_CHANGE, "
        "ATTACHMENT_REQUIRED, ATTACHMENT_USED, ATTACHMENT_NOT_READY, UNSUPPORTED_FILE_TYPE, "
        "and the simulation's (DAY_NOT_ALLOWED, DAY_UNCHANGED, RESIDUAL_OUT_OF_LIMITS, …)."
    )


@strawberry.input(description="A comment, with files, in a request's history.")
class RequestReplyInput:
    request_id: strawberry.ID
    comment: str = strawberry.field(description="Required, at most 4000 characters.")
    attachment_ids: list[strawberry.ID] | None = None


@strawberry.type
class RequestReplyPayload:
    request: Request | None
    errors: list[UserError] = strawberry.field(
        description="Codes: REQUIRED, TOO_LONG, REQUEST_CLOSED, NOT_FOUND, "
        "ATTACHMENT_USED, ATTACHMENT_NOT_READY, UNSUPPORTED_FILE_TYPE."
    )


@strawberry.input
class RequestMarkReadInput:
    request_id: strawberry.ID


@strawberry.type
class RequestMarkReadPayload:
    request: Request | None
    errors: list[UserError]


@strawberry.type
class RequestFileMutation:
    @strawberry.mutation(
        description="File a request of any kind (requests:write in the company): validated "
        "against the kind's form in requestCatalogue; a payment-day or schedule change stores "
        "the simulation it was filed with. The contact person gets a confirmation e-mail."
    )
    async def request_file(self, info: Info, input: RequestFileInput) -> RequestFilePayload:
        row, errors = await request_file.file_request(info.context, input.filing())
        if row is not None:
            info.context.loaders.clear()
        return RequestFilePayload(request=row, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Write in a request's history with files: the client's answer (an answer "
        "to WAITING_FOR_CLIENT moves the request back to IN_REVIEW), or customer service's "
        "message to the client (the stage stays; the client is e-mailed). A decided or closed "
        "request takes no replies."
    )
    async def request_reply(self, info: Info, input: RequestReplyInput) -> RequestReplyPayload:
        row, errors = await request_file.reply(
            info.context,
            request_global_id=input.request_id,
            comment=input.comment,
            attachment_global_ids=tuple(input.attachment_ids or ()),
        )
        if row is not None:
            info.context.loaders.clear()
        return RequestReplyPayload(request=row, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Mark the other side's history entries of a request read (the client "
        "staff's, staff the client's); marking again changes nothing."
    )
    async def request_mark_read(
        self, info: Info, input: RequestMarkReadInput
    ) -> RequestMarkReadPayload:
        row = await request_file.mark_read(info.context, request_global_id=input.request_id)
        info.context.loaders.clear()
        return RequestMarkReadPayload(request=row, errors=[])  # type: ignore[arg-type]
