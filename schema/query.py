"""The root Query and Mutation types."""

from __future__ import annotations

from typing import Annotated

import strawberry

from auth.access import require_authenticated, require_staff
from resolvers.client import get_client
from resolvers.node import resolve_node
from resolvers.request import REQUEST_TYPES
from resolvers.tyre import CentreFilter, list_centres
from schema.account import AccountMutation, SecondFactorMutation
from schema.admin import Admin, AdminMutation, DocumentAdminMutation, InvoiceAdminMutation
from schema.attachment import AttachmentMutation
from schema.base import Connection, Info, Node, connection
from schema.booking import BookingMutation
from schema.calendar import WorkingDayCalendar
from schema.client import Client
from schema.identity import IdentityMutation, Viewer, resolve_viewer
from schema.intake import IntakeMutation
from schema.interest_notes import InterestNotesMutation
from schema.invoice import InvoiceMutation
from schema.message import MessageMutation, MessageTopicInfo, message_topics
from schema.narrow import keys_only, row_free
from schema.payments import PaymentMutation
from schema.profile import ProfileMutation
from schema.request import RequestTypeInfo
from schema.request_admin import RequestAdminMutation
from schema.request_catalogue import RequestCatalogue, request_catalogue
from schema.request_file import RequestFileMutation
from schema.sso import SsoMutation
from schema.subaccount import ScopeInfo, SubaccountMutation, scope_catalogue
from schema.tyre import TyreCentreNearInput, TyreServiceCentre
from schema.tyre_booking import TyreBookingMutation
from schema.tyre_desk import TyreDeskMutation
from schema.tyre_relocation import TyreRelocationMutation


@row_free
@strawberry.type
class Query:
    viewer: Viewer | None = strawberry.field(
        resolver=resolve_viewer, description="The signed-in user; null when anonymous."
    )

    # The roots that take an id are nullable (the Relay convention): a bad id answers null with
    # its error, and the other root fields of the same request still answer.
    @strawberry.field(description="One client company of the viewer: the client context.")
    @keys_only
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        return await get_client(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info.context, id)

    @strawberry.field(
        description="Active tyre service centres with their load: by city and name, or "
        "nearest first when `near` is given."
    )
    async def tyre_service_centres(
        self,
        info: Info,
        city: str | None = None,
        online_booking: bool | None = None,
        first: int | None = 20,
        after: str | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Part of the city or name, or the start of the postal code (90, "
                "90-1, 90123); accents and case are ignored: lodz finds Łódź."
            ),
        ] = None,
        near: Annotated[
            TyreCentreNearInput | None,
            strawberry.argument(description="Nearest first from these coordinates or postcode."),
        ] = None,
    ) -> Connection[TyreServiceCentre]:
        filters = CentreFilter(city=city, online_booking=online_booking, search=search)
        page = await list_centres(
            info.context, filters=filters, near=near, first=first, after=after
        )
        return connection(page)

    @strawberry.field(description="The Polish working-day calendar; needs no sign-in.")
    def calendar(self) -> WorkingDayCalendar:
        return WorkingDayCalendar()

    @strawberry.field(
        description="The kinds of request a client may file.",
        deprecation_reason="Use requestCatalogue: the kinds grouped, with their forms.",
    )
    def request_types(self, info: Info) -> list[RequestTypeInfo]:
        return [RequestTypeInfo.of(kind, info.context.language) for kind in REQUEST_TYPES]

    @strawberry.field(
        description="Every request a client may file, as forms: category → type → kind. With "
        "contractId, the defaults and limits that depend on that contract are filled in."
    )
    async def request_catalogue(
        self, info: Info, contract_id: strawberry.ID | None = None
    ) -> RequestCatalogue:
        return await request_catalogue(info.context, contract_id)

    @strawberry.field(description="The topics of the new-message form, in its order.")
    def message_topics(self, info: Info) -> list[MessageTopicInfo]:
        return message_topics(info)

    @strawberry.field(description="Scopes a subaccount or API token can be given; filterable.")
    def scope_catalogue(self, info: Info, search: str | None = None) -> list[ScopeInfo]:
        require_authenticated(info.context.viewer)
        return scope_catalogue(info.context.language, search)

    @strawberry.field(description="Staff console; staff only.")
    @keys_only
    def admin(self, info: Info) -> Admin | None:
        require_staff(info.context.viewer)
        return Admin()


@strawberry.type
class Mutation(
    IdentityMutation,
    SsoMutation,
    AccountMutation,
    SecondFactorMutation,
    SubaccountMutation,
    ProfileMutation,
    AdminMutation,
    InvoiceAdminMutation,
    DocumentAdminMutation,
    InvoiceMutation,
    AttachmentMutation,
    RequestFileMutation,
    RequestAdminMutation,
    MessageMutation,
    BookingMutation,
    InterestNotesMutation,
    PaymentMutation,
    TyreRelocationMutation,
    TyreDeskMutation,
    TyreBookingMutation,
    IntakeMutation,
):
    pass
