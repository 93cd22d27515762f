"""Validation of connection arguments: `first` is capped, cursors must be ours."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import SQLModel

from auth.errors import BadInputError
from loaders.paging import (
    InvalidCursorError,
    ListFilter,
    Ordering,
    Page,
    PageQuery,
    decode_cursor,
    root_page,
)
from models.i18n import _
from resolvers.context import Context

DEFAULT_PAGE_SIZE = 20


def page_query(
    *,
    model: type[SQLModel],
    ordering: Ordering,
    first: int | None,
    after: str | None,
    max_first: int,
    filters: ListFilter | None = None,
) -> PageQuery:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= max_first:
        message = _("first must be between 0 and {max_first}.", max_first=max_first)
        raise BadInputError(message, field="first")
    position = None
    if after is not None:
        try:
            position = decode_cursor(after, model, ordering)
        except InvalidCursorError as error:
            message = _("after is not a valid cursor for this list.")
            raise BadInputError(message, field="after") from error
    return PageQuery(first=size, after=position, filters=filters)


async def root_list(
    ctx: Context,
    query: Select[Any],
    *,
    model: type[SQLModel],
    ordering: Ordering,
    first: int | None,
    after: str | None,
) -> Page[Any]:
    """A page of a root list (no parent to batch by): one SELECT, and a COUNT if asked for."""
    page = page_query(
        model=model,
        ordering=ordering,
        first=first,
        after=after,
        max_first=ctx.settings.page_size_max,
    )

    async def total() -> int:
        async with ctx.db.read() as session:
            count = select(func.count()).select_from(query.subquery())
            return int((await session.execute(count)).scalar_one())

    async with ctx.db.read() as session:
        return await root_page(
            session, query, model=model, ordering=ordering, page=page, total=total
        )
