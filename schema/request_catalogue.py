"""GraphQL types of the request catalogue as forms (REQ-1): resolvers/request_catalogue.py."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from auth.access import require_scope
from auth.errors import NotFoundError
from auth.scopes import Scope
from loaders.contract import ContractByIdLoader
from models.attachment import AttachmentKind
from models.contract import Contract as ContractRow
from models.i18n import Language, translate
from models.request import RequestType
from resolvers import attachments
from resolvers.context import Context
from resolvers.ids import pk_of
from resolvers.request import REQUEST_TYPES
from resolvers.request_catalogue import (
    AttachmentRule,
    CategoryEntry,
    FormField,
    FormFieldKind,
    KindForm,
    Option,
    RequestCategory,
    Statement,
    TypeEntry,
    catalogue_for,
)
from schema.base import Info


@strawberry.type(description="One allowed value of a field: the value to send and its label.")
class FormOption:
    value: str
    label: str

    @classmethod
    def of(cls, option: Option, language: Language) -> FormOption:
        return cls(value=option.value, label=translate(option.label, language))


@strawberry.type(description="One field of a request form, in the order the portal shows it.")
class FormFieldInfo:
    name: str = strawberry.field(description="The input field it fills (requestFile).")
    label: str
    kind: FormFieldKind
    required: bool
    options: list[FormOption] = strawberry.field(description="The allowed values; empty: any.")
    default: str | None = strawberry.field(
        description="The value to show first; some depend on the chosen contract (contractId)."
    )
    min: Decimal | None = strawberry.field(description="The least value (money, %, months).")
    max: Decimal | None = strawberry.field(description="The greatest value (money, %, months).")

    @classmethod
    def of(cls, field: FormField, language: Language) -> FormFieldInfo:
        return cls(
            name=field.name,
            label=translate(field.label, language),
            kind=field.kind,
            required=field.required,
            options=[FormOption.of(option, language) for option in field.options],
            default=field.default,
            min=field.min,
            max=field.max,
        )


@strawberry.type(description="A statement the client must accept to file the request.")
class FormStatement:
    id: str = strawberry.field(description="Sent back in acceptedStatements.")
    text: str

    @classmethod
    def of(cls, statement: Statement, language: Language) -> FormStatement:
        return cls(id=statement.id, text=translate(statement.text, language))


@strawberry.type(description="The largest file of one kind.")
class AttachmentKindLimit:
    kind: AttachmentKind
    max_bytes: int


@strawberry.type(description="Which files a request takes.")
class AttachmentRuleInfo:
    required: bool = strawberry.field(description="At least one file must be attached.")
    kinds: list[AttachmentKind] = strawberry.field(description="Kinds, decided by content.")

    @strawberry.field(description="The largest file of any of these kinds, in bytes.")
    def max_bytes(self, info: Info) -> int:
        return max(limit.max_bytes for limit in self.limits(info))

    @strawberry.field(
        description="Each kind's own limit, as the upload enforces it (a ZIP may be larger)."
    )
    def limits(self, info: Info) -> list[AttachmentKindLimit]:
        settings = info.context.settings
        return [
            AttachmentKindLimit(kind=kind, max_bytes=attachments.max_bytes(settings, kind))
            for kind in self.kinds
        ]

    @classmethod
    def of(cls, rule: AttachmentRule) -> AttachmentRuleInfo:
        return cls(required=rule.required, kinds=list(rule.kinds))


@strawberry.type(description="What a portal needs to render and check a request's form.")
class RequestForm:
    fields: list[FormFieldInfo]
    statements: list[FormStatement]
    attachments: AttachmentRuleInfo


@strawberry.type(description="A kind of request: what is filed (requestFile) and its form.")
class RequestKindInfo:
    kind: RequestType
    label: str = strawberry.field(description="The kind's word in the guide's list.")
    name: str
    description: str
    form: RequestForm

    @classmethod
    def of(cls, form: KindForm, language: Language) -> RequestKindInfo:
        name, description = REQUEST_TYPES[form.kind]
        return cls(
            kind=form.kind,
            label=translate(form.label, language),
            name=translate(name, language),
            description=translate(description, language),
            form=RequestForm(
                fields=[FormFieldInfo.of(field, language) for field in form.fields],
                statements=[FormStatement.of(s, language) for s in form.statements],
                attachments=AttachmentRuleInfo.of(form.attachments),
            ),
        )


@strawberry.type(description="A type of request; the schedule change has three kinds.")
class RequestCatalogueType:
    code: str
    label: str
    kinds: list[RequestKindInfo]

    @classmethod
    def of(cls, entry: TypeEntry, language: Language) -> RequestCatalogueType:
        kinds = [RequestKindInfo.of(form, language) for form in entry.kinds]
        return cls(code=entry.code, label=translate(entry.label, language), kinds=kinds)


@strawberry.type(description="Requests on the leased item, the contract or another matter.")
class RequestCatalogueCategory:
    category: RequestCategory
    label: str
    types: list[RequestCatalogueType]

    @classmethod
    def of(cls, entry: CategoryEntry, language: Language) -> RequestCatalogueCategory:
        types = [RequestCatalogueType.of(t, language) for t in entry.types]
        return cls(category=entry.category, label=translate(entry.label, language), types=types)


@strawberry.type(description="Every request a client may file, grouped as in the guide.")
class RequestCatalogue:
    categories: list[RequestCatalogueCategory]

    @strawberry.field(description="Every type, categories flattened, in the guide's order.")
    def types(self) -> list[RequestCatalogueType]:
        return [entry for category in self.categories for entry in category.types]


async def _contract(ctx: Context, contract_id: strawberry.ID) -> ContractRow:
    """The chosen contract; another company's answers as a missing one."""
    pk = pk_of(contract_id, "Contract", field="contractId")
    contract = await ctx.loaders[ContractByIdLoader].load(pk)
    if contract is None:
        raise NotFoundError(field="contractId")
    require_scope(ctx.viewer, contract.client_id, Scope.CONTRACTS_READ, field="contractId")
    return contract


async def request_catalogue(ctx: Context, contract_id: strawberry.ID | None) -> RequestCatalogue:
    contract = None if contract_id is None else await _contract(ctx, contract_id)
    categories = catalogue_for(contract)
    return RequestCatalogue(
        categories=[RequestCatalogueCategory.of(entry, ctx.language) for entry in categories]
    )
