"""GraphQL types of documents (interest notes, compensations, balance confirmations)."""

from __future__ import annotations

from datetime import date

import strawberry

from auth.scopes import Scope
from loaders.document import DocumentByIdLoader
from models.contract import Currency
from models.document import Document as DocumentRow
from models.document import DocumentKind
from resolvers.links import link
from resolvers.node import in_client
from schema.base import Info, Money, Node, money, node_id, node_type, scoped


@strawberry.input
class DocumentFilterInput:
    kind: list[DocumentKind] | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    contract_id: strawberry.ID | None = None


@strawberry.type(description="An accounting document issued to the client.")
@node_type(DocumentRow, loader=DocumentByIdLoader, access=in_client(Scope.DOCUMENTS_READ))
class Document(Node):
    id: strawberry.ID = node_id("Document")
    kind: DocumentKind
    number: str
    title: str
    issue_date: date
    currency: Currency
    amount: Money | None = money("amount", "Amount, where the document has one.")

    @strawberry.field(
        extensions=scoped(Scope.DOCUMENTS_READ),
        description="A link, valid for 5 minutes, to the document as PDF.",
    )
    def download_url(self, root: DocumentRow, info: Info) -> str | None:
        return link(info.context, kind="document", object_id=root.id)  # type: ignore[arg-type]
