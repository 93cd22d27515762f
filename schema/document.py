"""GraphQL types of documents (interest notes, compensations, balance confirmations)."""

from __future__ import annotations

from datetime import date

import strawberry

from models.contract import Currency
from models.document import Document as DocumentRow
from models.document import DocumentKind
from schema.base import Money, Node, backed_by, money, node_id


@strawberry.input
class DocumentFilterInput:
    kind: list[DocumentKind] | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    contract_id: strawberry.ID | None = None


@strawberry.type(description="An accounting document issued to the client.")
@backed_by(DocumentRow)
class Document(Node):
    id: strawberry.ID = node_id("Document")
    kind: DocumentKind
    number: str
    title: str
    issue_date: date
    currency: Currency
    amount: Money | None = money("amount", "Amount, where the document has one.")
