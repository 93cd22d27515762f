"""Root entry points to clients: one client by id, and the staff search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlmodel import col
from stdnum.pl import nip

from auth.access import require_client
from loaders.client import ClientByIdLoader
from loaders.paging import Ordering, Page
from models.client import Client
from models.identity import Membership, User
from models.search import contains
from resolvers.context import Context
from resolvers.ids import pk_of
from resolvers.paging import root_list

CLIENT_ORDERING = Ordering(("name",), descending=False)
REGON_LENGTHS = (9, 14)  # a company's, a local unit's


async def get_client(ctx: Context, global_id: str) -> Client:
    client_id = require_client(ctx.viewer, pk_of(global_id, "Client"))
    client = await ctx.loaders[ClientByIdLoader].load(client_id)
    require_client(ctx.viewer, client.id if client else None)
    return client


def _client_search(search: str | None) -> Select[Any]:
    """One SELECT: name, city and client number as typed, NIP and REGON in any common form,
    and a person's e-mail through an EXISTS on the company's memberships."""
    query = select(Client)
    if search and search.strip():
        query = query.where(or_(*_matches(search.strip())))
    return query


def _matches(term: str) -> list[ColumnElement[bool]]:
    columns = (col(Client.name), col(Client.number), col(Client.city))
    found = [contains(column, term) for column in columns]
    # "PL 915-143-93-13", "915 143 93 13": NIP is stored as its ten digits.
    digits = nip.compact(term)
    if digits.isdigit():
        found.append(contains(col(Client.nip), digits))
        if len(digits) in REGON_LENGTHS:
            found.append(col(Client.regon) == digits)
    if "@" in term:
        found.append(_has_user_with_email(term))
    return found


def _has_user_with_email(term: str) -> ColumnElement[bool]:
    return exists(
        select(col(Membership.id))
        .join(User, col(User.id) == col(Membership.user_id))
        .where(col(Membership.client_id) == col(Client.id), contains(col(User.email), term))
    )


async def search_clients(
    ctx: Context, *, search: str | None, first: int | None, after: str | None
) -> Page[Client]:
    query = _client_search(search)
    return await root_list(
        ctx, query, model=Client, ordering=CLIENT_ORDERING, first=first, after=after
    )
