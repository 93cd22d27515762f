"""Loaders of requests (wnioski), their stage history and attachments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlmodel import col

from loaders.base import ByIdLoader, ManyByKeyLoader
from loaders.paging import ChildPageLoader, Ordering
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
