"""The staff console's root (USE-3)."""

from __future__ import annotations

import strawberry

from resolvers.client import search_clients
from schema.base import Connection, Info, connection
from schema.refs import ClientRef


@strawberry.type(description="Staff only: every client, for the admin console.")
class Admin:
    @strawberry.field(description="Clients by name, NIP, client number or city.")
    async def clients(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[ClientRef]:
        page = await search_clients(info.context, search=search, first=first, after=after)
        return connection(page)
