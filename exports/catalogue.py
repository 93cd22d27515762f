"""The columns of the tables BI tools pull: ids are the API's global ids, so tables join."""

from __future__ import annotations

from exports.tables import Column, Kind

_ID = Column("id", "Id", "Id")
_CLIENT = Column("client_id", "Client id", "Id klienta")
# The row or what its derived values come from (an invoice's allocations, say) last changed.
_UPDATED = Column("updated_at", "Updated at (UTC)", "Zmieniono (UTC)", Kind.TIMESTAMP)
_CONTRACT = Column("contract_id", "Contract id", "Id umowy")
_CURRENCY = Column("currency", "Currency", "Waluta")
_NUMBER = Column("number", "Number", "Numer")
_KIND = Column("kind", "Kind", "Rodzaj")
# The due date moved off a Saturday or a public holiday to the next working day (art. 115 of the
# Civil Code): paid on that day is paid on time.
_VAT_CATEGORY = Column("vat_category", "VAT category", "Kategoria VAT")
_DEADLINE = Column("payment_deadline", "Payment deadline", "Termin płatności (ustawowy)", Kind.DATE)

INVOICE_COLUMNS = (
    _ID,
    _CLIENT,
    _NUMBER,
    _KIND,
    Column("status", "Status", "Status"),
    _CONTRACT,
    Column("ksef_number", "KSeF number", "Numer KSeF"),
    Column("issue_date", "Issue date", "Data wystawienia", Kind.DATE),
    Column("sale_date", "Sale date", "Data sprzedaży", Kind.DATE),
    Column("due_date", "Due date", "Termin płatności", Kind.DATE),
    _DEADLINE,
    _CURRENCY,
    # "zw" (exempt) and "np" (not subject) next to the percentages; the percentage is 0 for both.
    _VAT_CATEGORY,
    Column("vat_rate", "VAT rate (%)", "Stawka VAT (%)", Kind.INTEGER),
    Column("net", "Net", "Netto", Kind.MONEY),
    Column("vat", "VAT", "VAT", Kind.MONEY),
    Column("gross", "Gross", "Brutto", Kind.MONEY),
    # The gross change of every correcting invoice; "Corrects invoice id" links them back.
    Column("corrected", "Corrections (gross)", "Korekty (brutto)", Kind.MONEY),
    Column("paid", "Paid", "Zapłacono", Kind.MONEY),
    Column("amount_due", "Amount due", "Do zapłaty", Kind.MONEY),
    Column("split_payment", "Split payment", "Podzielona płatność", Kind.BOOLEAN),
    Column("corrects_id", "Corrects invoice id", "Id korygowanej faktury"),
    Column("description", "Description", "Opis"),
    _UPDATED,
)

CONTRACT_COLUMNS = (
    _ID,
    _CLIENT,
    _NUMBER,
    _KIND,
    Column("status", "Status", "Status"),
    _CURRENCY,
    Column("start_date", "Start date", "Data rozpoczęcia", Kind.DATE),
    Column("end_date", "End date", "Data zakończenia", Kind.DATE),
    Column("term_months", "Term (months)", "Okres (miesiące)", Kind.INTEGER),
    Column("net_value", "Net value", "Wartość netto", Kind.MONEY),
    Column("initial_fee", "Initial fee", "Opłata wstępna", Kind.MONEY),
    Column("residual_value", "Residual value", "Wartość wykupu", Kind.MONEY),
    Column("annual_rate", "Annual rate (%)", "Oprocentowanie roczne (%)", Kind.PERCENT),
    Column("payment_day", "Payment day", "Dzień płatności", Kind.INTEGER),
    _UPDATED,
)

INSTALMENT_COLUMNS = (
    _ID,
    _CLIENT,
    _CONTRACT,
    Column("number", "No.", "Nr raty", Kind.INTEGER),
    Column("due_date", "Due date", "Termin płatności", Kind.DATE),
    _DEADLINE,
    Column("capital", "Capital", "Kapitał", Kind.MONEY),
    Column("interest", "Interest", "Odsetki", Kind.MONEY),
    Column("net", "Net", "Netto", Kind.MONEY),
    # "zw" (exempt) and "np" (not subject) next to the percentages; the percentage is 0 for both.
    _VAT_CATEGORY,
    Column("vat_rate", "VAT rate (%)", "Stawka VAT (%)", Kind.INTEGER),
    Column("vat", "VAT", "VAT", Kind.MONEY),
    Column("gross", "Gross", "Brutto", Kind.MONEY),
    Column("remaining_capital", "Remaining capital", "Kapitał pozostały do spłaty", Kind.MONEY),
    Column("invoice_id", "Invoice id", "Id faktury"),
    _UPDATED,
)

PAYMENT_COLUMNS = (
    _ID,
    _CLIENT,
    Column("booked_on", "Booked on", "Data księgowania", Kind.DATE),
    Column("amount", "Amount", "Kwota", Kind.MONEY),
    _CURRENCY,
    Column("title", "Title", "Tytuł"),
    Column("payer_iban", "Payer account", "Rachunek zleceniodawcy"),
    Column("source", "Source", "Źródło"),
    Column("allocated", "Allocated", "Rozliczono", Kind.MONEY),
    Column("unallocated", "Unallocated", "Nierozliczono", Kind.MONEY),
    _UPDATED,
)

DOCUMENT_COLUMNS = (
    _ID,
    _CLIENT,
    _NUMBER,
    _KIND,
    Column("title", "Title", "Tytuł"),
    Column("issue_date", "Issue date", "Data wystawienia", Kind.DATE),
    Column("amount", "Amount", "Kwota", Kind.MONEY),
    _CURRENCY,
    _CONTRACT,
    _UPDATED,
)

# Which payment settled which invoice, how much and when: one row per allocation.
ALLOCATION_COLUMNS = (
    _ID,
    _CLIENT,
    Column("payment_id", "Payment id", "Id płatności"),
    Column("invoice_id", "Invoice id", "Id faktury"),
    Column("invoice_number", "Invoice number", "Numer faktury"),
    Column("amount", "Amount", "Kwota", Kind.MONEY),
    _CURRENCY,
    Column("allocated_on", "Allocated on", "Data rozliczenia", Kind.DATE),
    Column("payment_booked_on", "Payment booked on", "Data księgowania płatności", Kind.DATE),
    Column("created_at", "Created at (UTC)", "Utworzono (UTC)", Kind.TIMESTAMP),
    _UPDATED,
)

# A row that left one of the tables above: `Id` is its id there (what a BI tool upserted it by).
DELETION_COLUMNS = (
    Column("table", "Table", "Tabela"),
    _ID,
    _CLIENT,
    Column("deleted_at", "Deleted at (UTC)", "Usunięto (UTC)", Kind.TIMESTAMP),
)

# The audit log for auditors (`leasehub audit-export`): one row per recorded change; `Changes`
# is the JSON of the changed fields' before and after, secrets already hidden.
AUDIT_COLUMNS = (
    _ID,
    Column("at", "At (UTC)", "Kiedy (UTC)", Kind.TIMESTAMP),
    Column("action", "Action", "Czynność"),
    Column("actor_id", "Actor id", "Id wykonującego"),
    Column("actor_email", "Actor e-mail", "E-mail wykonującego"),
    Column("on_behalf_of_id", "On behalf of (staff) id", "W imieniu (pracownik) id"),
    Column("token_id", "Token id", "Id tokenu"),
    _CLIENT,
    Column("ip", "IP address", "Adres IP"),
    Column("request_id", "Request id", "Id żądania"),
    Column("object_type", "Object type", "Rodzaj obiektu"),
    Column("object_id", "Object id", "Id obiektu"),
    Column("changes", "Changes (JSON)", "Zmiany (JSON)"),
)
