"""Loaders of requests (wnioski), their stage history and attachments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Select, func, select
from sqlmodel import col

from loaders.base import BaseLoader, BuiltOnce, ByIdLoader, ManyByKeyLoader, RowReader, table_column
from loaders.paging import ChildPageLoader, Ordering
from loaders.statements import KEYS, KeysIn
from models.attachment import Attachment
from models.request import Request, RequestStage, RequestStageEntry


@dataclass(frozen=True, slots=True)
class RequestFilter:
    stages: frozenset[RequestStage] = frozenset()

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.stages:
            query = query.where(col(Request.stage).in_(self.stages))
        return query


class AttachmentByIdLoader(ByIdLoader[Attachment]):
    model = Attachment


class RequestByIdLoader(ByIdLoader[Request]):
    model = Request


class RequestsByClientIdLoader(ChildPageLoader[Request]):
    model = Request
    parent = "client_id"
    ordering = Ordering(("created_at",))


class StagesByRequestIdLoader(ManyByKeyLoader[RequestStageEntry]):
    model = RequestStageEntry
    key = "request_id"
    order_by = ("created_at", "id")


class AttachmentsByStageIdLoader(ManyByKeyLoader[Attachment]):
    model = Attachment
    key = "request_stage_id"


class _UnreadCounts(BuiltOnce, BaseLoader[tuple[int, bool], int]):
    """Unread history entries by who wrote them: a key is (parent id, from_client), the side
    the reader waits on (a client reads staff's entries, staff the client's). One grouped
    COUNT over both sides, whatever the batch holds."""

    parent: ClassVar[str]

    @classmethod
    def counted(cls) -> Any:
        return func.count()

    @classmethod
    def build(cls) -> Select[Any]:
        parent = table_column(RequestStageEntry, cls.parent)
        side = table_column(RequestStageEntry, "from_client")
        return (
            select(parent, side, cls.counted())
            .where(KeysIn(parent), table_column(RequestStageEntry, "read_at").is_(None))
            .group_by(parent, side)
        )

    async def load_batch(self, connection: RowReader, keys: list[tuple[int, bool]]) -> list[int]:
        parents = sorted({parent for parent, _side in keys})
        result = await connection.execute(self.statement(), {KEYS: parents})
        found = {(parent, bool(side)): int(count) for parent, side, count in result}
        return [found.get(key, 0) for key in keys]


class UnreadByRequestIdLoader(_UnreadCounts):
    """(request id, from_client) → entries of that side nobody on the other side has read."""

    parent = "request_id"


class UnreadRequestsByClientIdLoader(_UnreadCounts):
    """(client id, from_client) → requests of the company with such unread entries."""

    parent = "client_id"

    @classmethod
    def counted(cls) -> Any:
        return func.count(func.distinct(table_column(RequestStageEntry, "request_id")))
