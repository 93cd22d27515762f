"""Loaders of documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select
from sqlmodel import col

from loaders.base import ByIdLoader
from loaders.paging import ChildPageLoader, Ordering
from models.document import Document, DocumentKind


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    kinds: frozenset[DocumentKind] = frozenset()
    issued_from: date | None = None
    issued_to: date | None = None
    contract_id: int | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.kinds:
            query = query.where(col(Document.kind).in_(self.kinds))
        if self.issued_from:
            query = query.where(col(Document.issue_date) >= self.issued_from)
        if self.issued_to:
            query = query.where(col(Document.issue_date) <= self.issued_to)
        if self.contract_id is not None:
            query = query.where(col(Document.contract_id) == self.contract_id)
        return query


class DocumentByIdLoader(ByIdLoader[Document]):
    model = Document


class DocumentsByClientIdLoader(ChildPageLoader[Document]):
    model = Document
    parent = "client_id"
    ordering = Ordering(("issue_date",))
