"""Root entry points to clients: one client by id, and the staff search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlmodel import col

from auth.access import require_client, require_staff
from loaders.client import ClientByIdLoader
from loaders.paging import Ordering, Page
from models.client import Client
from models.search import contains
from resolvers.context import Context
from resolvers.ids import pk_of
from resolvers.paging import root_list

CLIENT_ORDERING = Ordering(("name",), descending=False)


async def get_client(ctx: Context, global_id: str) -> Client:
    client_id = require_client(ctx.viewer, pk_of(global_id, "Client"))
    client = await ctx.loaders[ClientByIdLoader].load(client_id)
    require_client(ctx.viewer, client.id if client else None)
    return client


def _client_search(search: str | None) -> Select[Any]:
    query = select(Client)
    if search and search.strip():
        term = search.strip()
        columns = (col(Client.name), col(Client.nip), col(Client.number), col(Client.city))
        query = query.where(or_(*(contains(column, term) for column in columns)))
    return query


async def search_clients(
    ctx: Context, *, search: str | None, first: int | None, after: str | None
) -> Page[Client]:
    require_staff(ctx.viewer)
    query = _client_search(search)
    return await root_list(
        ctx, query, model=Client, ordering=CLIENT_ORDERING, first=first, after=after
    )
