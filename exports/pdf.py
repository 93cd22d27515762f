"""Printed documents: dataclasses from `exports.documents` in, PDF bytes out.

Jinja2 HTML templates (`exports/templates`, autoescaped) rendered by weasyprint. Pure functions
with fresh weasyprint objects on every call, module-level and taking picklable dataclasses, so
the server runs them in worker processes (`hub/downloads.py`): a render holds the GIL for up to
a second, which in a thread of the server would stall every other request. Nothing is
fetched from the network: the templates refer only to the local stylesheet, and the URL
fetcher refuses anything that is not a `file:` URL.

Money prints in Polish style with a plain space between thousands ("1 234,56": PDF text
extraction keeps it as typed), dates as DD.MM.YYYY.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from num2words import num2words
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from exports.documents import (
    BalanceConfirmationDocument,
    GeneralDocument,
    InterestNoteDocument,
    InvoiceDocument,
    InvoiceLine,
    ScheduleDocument,
)
from models.contract import ContractKind
from models.i18n import _, translate
from models.vat import VatCategory

__all__ = [
    "balance_confirmation_pdf",
    "format_account",
    "format_date",
    "format_money",
    "format_percent",
    "format_rate",
    "general_document_pdf",
    "interest_note_pdf",
    "invoice_pdf",
    "schedule_pdf",
    "spell_amount",
]

TEMPLATES = Path(__file__).with_name("templates")
_GROSZ = Decimal("0.01")


def format_money(value: Decimal) -> str:
    """1234.5 -> "1 234,50": grosze rounded half up, a plain space between thousands."""
    amount = Decimal(value).quantize(_GROSZ, rounding=ROUND_HALF_UP)
    if not amount:
        amount = abs(amount)  # no "-0,00"
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")


def format_date(value: date) -> str:
    """2026-03-15 -> "15.03.2026"."""
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def format_percent(rate: Decimal) -> str:
    """An annual rate as a fraction, 0.14 -> "14,00%"."""
    percent = (Decimal(rate) * 100).quantize(_GROSZ, rounding=ROUND_HALF_UP)
    return f"{percent:.2f}%".replace(".", ",")


def format_account(account: str) -> str:
    """An IBAN or NRB in groups of four: "PL61 1090 1014 0000 0712 1981 2874".

    A bare 26-digit NRB prints as "61 1090 1014 ...", its two check digits first.
    """
    compact = "".join(account.split()).upper()
    head = ""
    if len(compact) == 26 and compact.isdigit():
        head, compact = compact[:2] + " ", compact[2:]
    return head + " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def spell_amount(amount: Decimal, currency: str) -> str:
    """The amount in Polish words; "... CHF 56/100" for a currency num2words cannot name."""
    amount = Decimal(amount).quantize(_GROSZ, rounding=ROUND_HALF_UP)
    try:
        return str(num2words(amount, lang="pl", to="currency", currency=currency))
    except NotImplementedError:
        whole, cents = divmod(abs(amount), 1)
        words = str(num2words(int(whole), lang="pl"))
        sign = "minus " if amount < 0 else ""
        return f"{sign}{words} {currency} {int(cents * 100):02d}/100"


def format_rate(rate: int | VatCategory) -> str:
    """A VAT rate as an invoice prints it: "23%", or "zw" / "np" where no rate applies."""
    return rate.label if isinstance(rate, VatCategory) else f"{rate}%"


def _unit_net(line: InvoiceLine) -> Decimal:
    """The net unit price an invoice must show; the line carries only the net value."""
    if not line.quantity:
        return line.net
    return (line.net / line.quantity).quantize(_GROSZ, rounding=ROUND_HALF_UP)


_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(
    money=format_money,
    date=format_date,
    percent=format_percent,
    account=format_account,
    words=spell_amount,
    unit_net=_unit_net,
    rate=format_rate,
)


class _TemplateFiles(URLFetcher):
    """Loads only files of the templates folder (the stylesheet), nothing from a network.
    One per render: a fetcher keeps per-request state, so threads do not share one."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",))

    def fetch(self, url: str, headers: Any = None) -> Any:
        path = Path(unquote(urlsplit(url).path)).resolve()
        if not path.is_relative_to(TEMPLATES.resolve()):
            raise ValueError(f"refusing to load {url!r}: only the templates folder")
        return super().fetch(url, headers)


def _render(template: str, *, title: str, author: str, **context: Any) -> bytes:
    html = _ENV.get_template(template).render(title=title, author=author, **context)
    document = HTML(string=html, base_url=f"{TEMPLATES}/", url_fetcher=_TemplateFiles())
    pdf = document.write_pdf(font_config=FontConfiguration())
    if pdf is None:  # pragma: no cover - only when writing to a target
        raise RuntimeError("weasyprint returned no PDF")
    return pdf


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    """A VAT invoice, a correcting invoice (`doc.corrected`) or a duplicate of either."""
    heading = "Faktura korygująca" if doc.corrected else "Faktura VAT"
    heading = f"{heading} nr {doc.number}"
    correction_rows: list[tuple[str, Decimal, Decimal, Decimal]] = []
    if doc.corrected:
        before = doc.corrected
        correction_rows = [
            ("Przed korektą", before.net, before.vat, before.gross),
            ("Korekta (różnica)", doc.net, doc.vat, doc.gross),
            ("Po korekcie", before.net + doc.net, before.vat + doc.vat, before.gross + doc.gross),
        ]
    due_label, due_amount = settlement(doc)
    return _render(
        "invoice.html",
        title=f"{heading} (duplikat)" if doc.duplicate_issue_date else heading,
        author=doc.seller.name,
        doc=doc,
        heading=heading,
        correction_rows=correction_rows,
        due_label=due_label,
        due_amount=due_amount,
    )


def settlement(doc: InvoiceDocument) -> tuple[str, Decimal]:
    """The amount the document ends with. An invoice: its gross, or the part due now of a
    delivery paid in instalments. A correction: "Do zwrotu" only when more had been paid than
    the corrected invoice now asks for, otherwise what is still to pay of it (a reduction
    nobody paid yet is no refund)."""
    if doc.corrected is None:
        return "Do zapłaty", doc.gross if doc.payable_now is None else doc.payable_now
    paid = doc.paid_before or Decimal(0)
    due_after = doc.corrected.gross + doc.gross if doc.due_after is None else doc.due_after
    if paid > due_after:
        return "Do zwrotu", paid - due_after
    return "Pozostaje do zapłaty", due_after - paid


# The schedule is the one printout a client may ask for in English (`polish: false`); invoices
# and notes are Polish legal documents.
SCHEDULE_TEXTS = {
    "document": _("Repayment schedule – contract no. {number}"),  # the PDF's own title
    "title": _("Repayment schedule"),
    "subtitle": _("to lease contract no. {number}"),
    "lessor": _("Lessor"),
    "lessee": _("Lessee"),
    "period": _("Contract period"),
    "net_value": _("Net value of the leased asset"),
    "initial_fee": _("Initial fee"),
    "residual_value": _("Residual value"),
    "currency": _("Currency"),
    "number": _("Instalment no."),
    "due_date": _("Due date"),
    "capital": _("Capital"),
    "interest": _("Interest"),
    "net": _("Net"),
    "vat": _("VAT"),
    "gross": _("Gross"),
    "remaining": _("Capital remaining"),
    "total": _("Total"),
    "amounts_in": _("Amounts in {currency}. Printed on: {date}"),
}
# A loan is no lease: its parties and its asset are named as a loan names them.
LOAN_TEXTS = {
    "subtitle": _("to loan agreement no. {number}"),
    "lessor": _("Lender"),
    "lessee": _("Borrower"),
    "net_value": _("Net value of the financed asset"),
    "residual_value": _("Balloon payment"),
}
# Why the VAT column is empty, under the provisions models.finance.vat_for applies.
SCHEDULE_VAT_NOTES = {
    ContractKind.LOAN: _("The instalments are exempt from VAT: art. 43(1)(38) of the VAT Act."),
    ContractKind.FINANCIAL_LEASE: _(
        "VAT on the whole amount due under the contract was charged on the invoice for the "
        "delivery of the leased asset; the instalments carry none (art. 7(1)(2), art. 19a(1) "
        "and art. 29a(1) of the VAT Act)."
    ),
}


def schedule_pdf(doc: ScheduleDocument) -> bytes:
    """A repayment schedule, landscape, the table continuing over pages under its header."""
    totals = {
        column: sum((getattr(row, column) for row in doc.rows), Decimal(0))
        for column in ("capital", "interest", "net", "vat", "gross")
    }
    wording = SCHEDULE_TEXTS | (LOAN_TEXTS if doc.kind is ContractKind.LOAN else {})
    texts = {key: translate(text, doc.language) for key, text in wording.items()}
    note = SCHEDULE_VAT_NOTES.get(doc.kind)
    texts["vat_note"] = translate(note, doc.language) if note else ""
    title = texts["document"].format(number=doc.contract_number)
    return _render(
        "schedule.html", title=title, author=doc.lessor.name, doc=doc, totals=totals, t=texts
    )


def _document_pdf(template: str, label: str, doc: Any) -> bytes:
    return _render(template, title=f"{label} nr {doc.number}", author=doc.seller.name, doc=doc)


def interest_note_pdf(doc: InterestNoteDocument) -> bytes:
    """A note charging late-payment interest on one invoice."""
    return _document_pdf("interest_note.html", "Nota odsetkowa", doc)


def balance_confirmation_pdf(doc: BalanceConfirmationDocument) -> bytes:
    """A request to confirm the balance on `doc.as_of`, with a return slip."""
    return _document_pdf("balance_confirmation.html", "Potwierdzenie salda", doc)


def general_document_pdf(doc: GeneralDocument) -> bytes:
    """Any other document: its title, parties and amount."""
    return _document_pdf("general_document.html", doc.title, doc)
