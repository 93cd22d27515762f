"""The tyre service centre list (TYR-2): shared by every client, so it is a root list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from auth.access import require_authenticated
from loaders.paging import Ordering, Page
from models.search import equals
from models.tyre import TyreServiceCentre
from resolvers.context import Context
from resolvers.paging import root_list

CENTRE_ORDERING = Ordering(("city", "name"), descending=False)


def _centres(city: str | None, online_booking: bool | None) -> Select[Any]:
    query = select(TyreServiceCentre).where(col(TyreServiceCentre.is_active).is_(True))
    if city:
        query = query.where(equals(col(TyreServiceCentre.city), city.strip()))
    if online_booking is not None:
        has_url = col(TyreServiceCentre.online_booking_url).is_not(None)
        query = query.where(has_url if online_booking else ~has_url)
    return query


async def list_centres(
    ctx: Context,
    *,
    city: str | None,
    online_booking: bool | None,
    first: int | None,
    after: str | None,
) -> Page[TyreServiceCentre]:
    require_authenticated(ctx.viewer)
    query = _centres(city, online_booking)
    return await root_list(
        ctx, query, model=TyreServiceCentre, ordering=CENTRE_ORDERING, first=first, after=after
    )
