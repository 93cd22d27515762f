"""Printed documents: what the PDF text says, read back with pypdf.

Every document is rendered once per module (a render takes a fraction of a second to a second)
and its extracted text checked by several tests.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from exports.documents import (
    BalanceConfirmationDocument,
    CorrectedInvoice,
    GeneralDocument,
    InterestNoteDocument,
    InvoiceDocument,
    InvoiceLine,
    Party,
    ScheduleDocument,
    ScheduleRow,
    VatLine,
)
from exports.pdf import (
    TEMPLATES,
    _TemplateFiles,
    balance_confirmation_pdf,
    format_account,
    format_date,
    format_money,
    format_percent,
    general_document_pdf,
    interest_note_pdf,
    invoice_pdf,
    schedule_pdf,
    spell_amount,
)

D = Decimal
LESSOR = Party(
    name="Żurawski Leasing Sp. z o.o.",
    nip="5252248481",
    street="ul. Świętokrzyska 12",
    postal_code="00-916",
    city="Warszawa",
    regon="140000000",
)
CLIENT = Party(
    name="Przedsiębiorstwo Usługowe Żółć Sp. z o.o.",
    nip="7251801126",
    street="ul. Łąkowa 5/7",
    postal_code="90-554",
    city="Łódź",
)
ACCOUNT = "PL61109010140000071219812874"
ACCOUNT_GROUPED = "PL61 1090 1014 0000 0712 1981 2874"
KSEF = "5252248481-20260315-0100A0B1C2D3-4E"


class Rendered:
    """A rendered PDF with its text, whitespace-collapsed so table rows read as one line."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.reader = PdfReader(io.BytesIO(pdf))
        self.pages = [page.extract_text() for page in self.reader.pages]
        self.text = re.sub(r"\s+", " ", " ".join(self.pages))

    def page_text(self, index: int) -> str:
        return re.sub(r"\s+", " ", self.pages[index])


INVOICE = InvoiceDocument(
    number="FV/2026/03/0001",
    issue_date=date(2026, 3, 15),
    sale_date=date(2026, 3, 14),
    due_date=date(2026, 3, 29),
    currency="PLN",
    seller=LESSOR,
    buyer=CLIENT,
    lines=(
        InvoiceLine(
            "Rata leasingowa nr 3/36 – umowa UL/2026/0042",
            net=D("1003.71"),
            vat_rate=23,
            vat=D("230.85"),
            gross=D("1234.56"),
        ),
        InvoiceLine(
            "Usługa assistance – pakiet rozszerzony",
            net=D("200.00"),
            vat_rate=8,
            vat=D("16.00"),
            gross=D("216.00"),
            quantity=2,
        ),
    ),
    vat_breakdown=(
        VatLine(rate=23, net=D("1003.71"), vat=D("230.85"), gross=D("1234.56")),
        VatLine(rate=8, net=D("200.00"), vat=D("16.00"), gross=D("216.00")),
    ),
    net=D("1203.71"),
    vat=D("246.85"),
    gross=D("1450.56"),
    ksef_number=KSEF,
    bank_account=ACCOUNT,
    bank_name="Santander Bank Polska S.A.",
    split_payment=True,
    contract_number="UL/2026/0042",
)

CORRECTION = replace(
    INVOICE,
    number="FK/2026/03/0002",
    lines=(
        InvoiceLine(
            "Obniżenie opłaty wstępnej",
            net=D("-1000.00"),
            vat_rate=23,
            vat=D("-230.00"),
            gross=D("-1230.00"),
        ),
    ),
    vat_breakdown=(VatLine(rate=23, net=D("-1000.00"), vat=D("-230.00"), gross=D("-1230.00")),),
    net=D("-1000.00"),
    vat=D("-230.00"),
    gross=D("-1230.00"),
    ksef_number=None,
    split_payment=False,
    corrected=CorrectedInvoice(
        number="FV/2026/02/0017",
        issue_date=date(2026, 2, 16),
        ksef_number="5252248481-20260216-01F2E3D4C5B6-7A",
        net=D("10000.00"),
        vat=D("2300.00"),
        gross=D("12300.00"),
    ),
    correction_reason="Rabat posprzedażowy – błędna wartość przedmiotu leasingu",
    paid_before=D("12300.00"),  # paid in full before the correction: the cut goes back
)

DUPLICATE = replace(
    INVOICE,
    currency="EUR",
    split_payment=False,
    contract_number=None,
    duplicate_issue_date=date(2026, 4, 20),
)


def schedule_rows(count: int) -> tuple[ScheduleRow, ...]:
    rows = []
    remaining = D("1500.00") * count
    for number in range(1, count + 1):
        capital, interest = D("1500.00"), D(count + 1 - number)
        net = capital + interest
        vat = (net * D("0.23")).quantize(D("0.01"))
        remaining -= capital
        due = date(2026, 1, 15) + timedelta(days=30 * (number - 1))
        rows.append(ScheduleRow(number, due, capital, interest, net, vat, net + vat, remaining))
    return tuple(rows)


SCHEDULE = ScheduleDocument(
    contract_number="UL/2026/0042",
    lessor=LESSOR,
    client=CLIENT,
    currency="PLN",
    start_date=date(2026, 1, 15),
    end_date=date(2030, 12, 15),
    net_value=D("91000.00"),
    initial_fee=D("10000.00"),
    residual_value=D("1000.00"),
    rows=schedule_rows(60),
    printed_on=date(2026, 3, 15),
)

INTEREST_NOTE = InterestNoteDocument(
    number="NO/2026/0007",
    issue_date=date(2026, 4, 20),
    seller=LESSOR,
    buyer=CLIENT,
    invoice_number="FV/2026/03/0001",
    principal=D("12300.00"),
    period_start=date(2026, 3, 30),
    period_end=date(2026, 4, 15),
    days=17,
    annual_rate=D("0.14"),
    interest=D("80.20"),
    currency="PLN",
    due_date=date(2026, 5, 4),
    bank_account=ACCOUNT,
    contract_number="UL/2026/0042",
)

BALANCE = BalanceConfirmationDocument(
    number="PS/2026/0003",
    issue_date=date(2026, 4, 2),
    seller=LESSOR,
    buyer=CLIENT,
    as_of=date(2026, 3, 31),
    balance=D("12345.67"),
    currency="PLN",
    reply_by=date(2026, 4, 16),
)


@pytest.fixture(scope="module")
def invoice() -> Rendered:
    return Rendered(invoice_pdf(INVOICE))


@pytest.fixture(scope="module")
def correction() -> Rendered:
    return Rendered(invoice_pdf(CORRECTION))


@pytest.fixture(scope="module")
def duplicate() -> Rendered:
    return Rendered(invoice_pdf(DUPLICATE))


@pytest.fixture(scope="module")
def schedule() -> Rendered:
    return Rendered(schedule_pdf(SCHEDULE))


@pytest.fixture(scope="module")
def interest_note() -> Rendered:
    return Rendered(interest_note_pdf(INTEREST_NOTE))


@pytest.fixture(scope="module")
def balance_owed_to_us() -> Rendered:
    return Rendered(balance_confirmation_pdf(BALANCE))


@pytest.fixture(scope="module")
def balance_owed_to_client() -> Rendered:
    return Rendered(balance_confirmation_pdf(replace(BALANCE, balance=D("-2500.00"))))


@pytest.fixture(scope="module")
def general() -> Rendered:
    document = GeneralDocument(
        number="NK/2026/0001",
        issue_date=date(2026, 3, 15),
        seller=LESSOR,
        buyer=replace(CLIENT, name="A<b>&C"),
        title="Nota księgowa & kompensata",
        amount=D("500.00"),
        currency="PLN",
        contract_number="UL/2026/0042",
    )
    return Rendered(general_document_pdf(document))


def test_money_dates_rates_and_accounts_print_in_polish_style() -> None:
    assert format_money(D("1234.56")) == "1 234,56"
    assert format_money(D("1234567.891")) == "1 234 567,89"
    assert format_money(D("-1000")) == "-1 000,00"
    assert format_money(D("0.005")) == "0,01"  # half up, as grosze are rounded
    assert format_money(D("-0.001")) == "0,00"  # never "-0,00"
    assert format_date(date(2026, 3, 5)) == "05.03.2026"
    assert format_percent(D("0.14")) == "14,00%"
    assert format_percent(D("0.1125")) == "11,25%"
    assert format_account(ACCOUNT) == ACCOUNT_GROUPED
    assert format_account("pl61 1090 1014 0000 0712 1981 2874") == ACCOUNT_GROUPED
    assert format_account("61109010140000071219812874") == "61 1090 1014 0000 0712 1981 2874"


def test_amount_in_words_falls_back_to_figures_for_a_currency_num2words_cannot_name() -> None:
    assert spell_amount(D("1234.56"), "PLN") == (
        "tysiąc dwieście trzydzieści cztery złote, pięćdziesiąt sześć groszy"
    )
    assert spell_amount(D("1234.56"), "CHF") == "tysiąc dwieście trzydzieści cztery CHF 56/100"
    assert spell_amount(D("-5.10"), "CHF") == "minus pięć CHF 10/100"


@pytest.mark.parametrize(
    ("fixture", "title"),
    [
        ("invoice", "Faktura VAT nr FV/2026/03/0001"),
        ("correction", "Faktura korygująca nr FK/2026/03/0002"),
        ("duplicate", "Faktura VAT nr FV/2026/03/0001 (duplikat)"),
        ("schedule", "Harmonogram spłat – umowa nr UL/2026/0042"),
        ("interest_note", "Nota odsetkowa nr NO/2026/0007"),
        ("balance_owed_to_us", "Potwierdzenie salda nr PS/2026/0003"),
        ("general", "Nota księgowa & kompensata nr NK/2026/0001"),
    ],
)
def test_every_document_is_a_pdf_titled_after_it_and_numbers_its_pages(
    request: pytest.FixtureRequest, fixture: str, title: str
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert rendered.pdf.startswith(b"%PDF")
    assert rendered.reader.metadata is not None
    assert rendered.reader.metadata.title == title
    pages = len(rendered.pages)
    assert f"Strona {pages} z {pages}" in rendered.page_text(-1)


def test_invoice_shows_parties_dates_and_ksef_number_with_polish_letters(
    invoice: Rendered,
) -> None:
    text = invoice.text
    assert "Faktura VAT nr FV/2026/03/0001" in text
    assert "Data wystawienia: 15.03.2026" in text
    assert "Data sprzedaży: 14.03.2026" in text
    assert "Termin płatności: 29.03.2026" in text
    assert "Umowa nr: UL/2026/0042" in text
    assert f"Numer KSeF: {KSEF}" in text
    assert "Przedsiębiorstwo Usługowe Żółć Sp. z o.o." in text
    assert "ul. Łąkowa 5/7 90-554 Łódź NIP: 7251801126" in text
    assert "Żurawski Leasing Sp. z o.o. ul. Świętokrzyska 12" in text
    assert "NIP: 5252248481 REGON: 140000000" in text
    assert "DUPLIKAT" not in text and "korygująca" not in text


def test_invoice_lines_and_vat_breakdown_add_up_to_the_amount_due(invoice: Rendered) -> None:
    text = invoice.text
    assert "Lp. Nazwa Ilość J.m. Cena jedn. netto Wartość netto Stawka VAT Kwota VAT" in text
    assert "1 szt. 1 003,71 1 003,71 23% 230,85 1 234,56" in text
    assert "2 szt. 100,00 200,00 8% 16,00 216,00" in text  # unit price = net / quantity
    assert "Stawka Netto VAT Brutto 23% 1 003,71 230,85 1 234,56 8% 200,00 16,00 216,00" in text
    assert "Razem 1 203,71 246,85 1 450,56" in text
    assert "Do zapłaty: 1 450,56 PLN" in text
    assert "Słownie: tysiąc czterysta pięćdziesiąt złotych, pięćdziesiąt sześć groszy" in text


def test_invoice_prints_the_bank_account_in_groups_of_four(invoice: Rendered) -> None:
    assert f"Numer rachunku: {ACCOUNT_GROUPED}" in invoice.text
    assert "Bank: Santander Bank Polska S.A." in invoice.text


def test_invoice_with_split_payment_prints_the_mandatory_note(invoice: Rendered) -> None:
    assert "mechanizm podzielonej płatności" in invoice.text


def test_invoice_without_split_payment_has_no_split_payment_note(
    correction: Rendered, duplicate: Rendered
) -> None:
    assert "podzielonej" not in correction.text
    assert "podzielonej" not in duplicate.text


def test_correcting_invoice_shows_before_difference_and_after(correction: Rendered) -> None:
    text = correction.text
    assert "Faktura korygująca nr FK/2026/03/0002" in text
    assert "Faktura korygowana nr: FV/2026/02/0017" in text
    assert "Data wystawienia faktury korygowanej: 16.02.2026" in text
    assert "Numer KSeF faktury korygowanej: 5252248481-20260216-01F2E3D4C5B6-7A" in text
    assert "Przyczyna korekty: Rabat posprzedażowy – błędna wartość przedmiotu leasingu" in text
    assert "Przed korektą 10 000,00 2 300,00 12 300,00" in text
    assert "Korekta (różnica) -1 000,00 -230,00 -1 230,00" in text
    assert "Po korekcie 9 000,00 2 070,00 11 070,00" in text
    assert "Numer KSeF:" not in text  # this correction has not been sent to KSeF yet


def test_correction_of_a_paid_invoice_prints_the_overpayment_as_a_refund(
    correction: Rendered,
) -> None:
    assert "Do zwrotu: 1 230,00 PLN" in correction.text
    assert "Słownie: tysiąc dwieście trzydzieści złotych, zero groszy" in correction.text
    assert "do zapłaty" not in correction.text.lower()


def test_duplicate_is_marked_and_keeps_the_original_issue_date(duplicate: Rendered) -> None:
    text = duplicate.text
    assert "DUPLIKAT" in text
    assert "Data wystawienia: 15.03.2026 Data wystawienia duplikatu: 20.04.2026" in text
    assert "Do zapłaty: 1 450,56 EUR" in text
    assert "tysiąc czterysta pięćdziesiąt euro, pięćdziesiąt sześć centów" in text
    assert "Umowa nr" not in text


def test_schedule_is_landscape_and_continues_over_pages_under_a_repeated_header(
    schedule: Rendered,
) -> None:
    assert len(schedule.pages) > 1
    header = "Nr raty Termin płatności Kapitał Odsetki Netto VAT Brutto Kapitał pozostały do spłaty"
    assert all(header in schedule.page_text(i) for i in range(len(schedule.pages)))
    box = schedule.reader.pages[0].mediabox
    assert box.width > box.height
    assert "Harmonogram spłat do umowy leasingu nr UL/2026/0042" in schedule.text
    assert "KORZYSTAJĄCY Przedsiębiorstwo Usługowe Żółć Sp. z o.o." in schedule.text
    assert "Okres umowy: 15.01.2026 – 15.12.2030" in schedule.text
    assert "Opłata wstępna: 10 000,00 PLN" in schedule.text
    first, last = SCHEDULE.rows[0], SCHEDULE.rows[-1]
    assert "1 15.01.2026 1 500,00 60,00 1 560,00 358,80 1 918,80 88 500,00" in schedule.text
    assert f"60 {format_date(last.due_date)} 1 500,00 1,00 1 501,00 345,23" in schedule.page_text(
        -1
    )
    assert first.due_date.isoformat() not in schedule.text
    assert "Wydrukowano: 15.03.2026" in schedule.text


def test_schedule_totals_row_sums_every_instalment(schedule: Rendered) -> None:
    rows = SCHEDULE.rows
    vat = format_money(sum((row.vat for row in rows), D(0)))
    gross = format_money(sum((row.gross for row in rows), D(0)))
    assert (vat, gross) == ("21 120,90", "112 950,90")
    assert f"Razem 90 000,00 1 830,00 91 830,00 {vat} {gross}" in schedule.page_text(-1)


def test_interest_note_shows_principal_period_days_rate_and_interest(
    interest_note: Rendered,
) -> None:
    text = interest_note.text
    assert "Nota odsetkowa nr NO/2026/0007" in text
    assert "Data wystawienia: 20.04.2026" in text
    assert "Umowa nr: UL/2026/0042" in text
    assert "z faktury nr FV/2026/03/0001" in text
    assert "FV/2026/03/0001 12 300,00 PLN 30.03.2026 – 15.04.2026 17 14,00% 80,20 PLN" in text
    assert "Do zapłaty: 80,20 PLN" in text
    assert "Słownie: osiemdziesiąt złotych, dwadzieścia groszy" in text
    assert "Prosimy o wpłatę do dnia 04.05.2026" in text
    assert f"Numer rachunku: {ACCOUNT_GROUPED}" in text


def test_balance_owed_by_the_client_is_in_our_favour(balance_owed_to_us: Rendered) -> None:
    text = balance_owed_to_us.text
    assert "Potwierdzenie salda nr PS/2026/0003 na dzień 31.03.2026" in text
    assert "na dzień 31.03.2026 wynosi 12 345,67 PLN na naszą korzyść." in text
    assert "na Państwa korzyść" not in text
    assert "Prosimy o potwierdzenie zgodności salda do dnia 16.04.2026" in text
    assert "Potwierdzamy zgodność salda na dzień 31.03.2026 w kwocie 12 345,67 PLN" in text
    assert "Nie potwierdzamy zgodności salda" in text
    assert "pieczęć i podpis osoby upoważnionej" in text


def test_balance_owed_to_the_client_is_in_their_favour(balance_owed_to_client: Rendered) -> None:
    text = balance_owed_to_client.text
    assert "wynosi 2 500,00 PLN na Państwa korzyść." in text
    assert "na naszą korzyść" not in text
    assert "-2 500,00" not in text


def test_general_document_shows_title_parties_amount_and_contract(general: Rendered) -> None:
    text = general.text
    assert "Nota księgowa & kompensata nr NK/2026/0001" in text
    assert "Data wystawienia: 15.03.2026 Umowa nr: UL/2026/0042" in text
    assert "Kwota: 500,00 PLN" in text
    assert "Słownie: pięćset złotych, zero groszy" in text


def test_markup_in_client_names_is_printed_literally(general: Rendered) -> None:
    assert "A<b>&C" in general.text
    assert "&amp;" not in general.text


def test_documents_render_concurrently_in_worker_threads() -> None:
    notes = [replace(INTEREST_NOTE, number=f"NO/2026/{n:04d}") for n in (101, 102, 103)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        rendered = [Rendered(pdf) for pdf in pool.map(interest_note_pdf, notes)]
    for note, result in zip(notes, rendered, strict=True):
        assert f"Nota odsetkowa nr {note.number}" in result.text
        assert "Do zapłaty: 80,20 PLN" in result.text


def test_the_url_fetcher_loads_template_files_only() -> None:
    fetch = _TemplateFiles().fetch
    for url in ("http://example.invalid/logo.png", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="only the templates folder"):
            fetch(url)
    with pytest.raises(ValueError, match="only the templates folder"):
        fetch((TEMPLATES / ".." / "pdf.py").as_uri())
    stylesheet = fetch((TEMPLATES / "style.css").as_uri())
    try:
        assert b"DejaVu Sans" in stylesheet.read()
    finally:
        stylesheet.close()
