"""Schedule and BI tables: typed XLSX cells, CSV that round-trips, neutralised formulas."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pandas as pd

from exports.streams import CsvStream, XlsxStream
from exports.tables import SCHEDULE_COLUMNS, Column, Kind, frame, neutralise, to_csv, to_xlsx
from models.finance import repayment_schedule


def schedule_rows() -> list[dict]:
    rows = repayment_schedule(
        capital=Decimal("100000.00"),
        annual_rate=Decimal("0.0899"),
        months=12,
        residual=Decimal("10000.00"),
        first_due=date(2026, 1, 15),
        payment_day=15,
    )
    return [asdict(row) for row in rows]


def test_xlsx_cells_are_typed_and_the_totals_add_up() -> None:
    rows = schedule_rows()
    df = frame(rows, SCHEDULE_COLUMNS, polish=True, totals=True)
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(df, SCHEDULE_COLUMNS))).active
    header = [cell.value for cell in sheet[1]]
    assert header[1] == "Termin płatności" and header[-1] == "Kapitał pozostały do spłaty"
    first = sheet[2]
    assert isinstance(first[1].value, datetime) and first[1].value.date() == date(2026, 1, 15)
    assert first[1].number_format == "yyyy-mm-dd"
    assert isinstance(first[2].value, float) and first[2].number_format == "#,##0.00"
    totals = sheet[len(rows) + 2]
    assert totals[0].value == "Razem"
    assert round(totals[2].value, 2) == float(sum(r["capital"] for r in rows)) == 90000.0
    assert totals[7].value is None  # a remaining-capital total would mean nothing


def test_csv_has_a_bom_and_round_trips_through_pandas() -> None:
    rows = schedule_rows()
    csv = to_csv(frame(rows, SCHEDULE_COLUMNS, polish=True), polish=True)
    assert csv.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", sep=";", decimal=",")
    assert list(back.columns) == [c.polish for c in SCHEDULE_COLUMNS]
    assert back["Nr raty"].tolist() == [r["number"] for r in rows]
    assert back["Kapitał"].round(2).tolist() == [float(r["capital"]) for r in rows]
    assert back["Termin płatności"].tolist() == [r["due_date"].isoformat() for r in rows]


def test_polish_csv_with_totals_keeps_every_money_column_numeric() -> None:
    rows = schedule_rows()
    csv = to_csv(frame(rows, SCHEDULE_COLUMNS, polish=True, totals=True), polish=True)
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", sep=";", decimal=",")
    remaining = back["Kapitał pozostały do spłaty"]
    assert remaining.dtype == float and pd.isna(remaining.iloc[-1])
    assert remaining.iloc[0] == float(rows[0]["remaining_capital"])


def test_english_csv_uses_comma_and_dot() -> None:
    csv = to_csv(frame(schedule_rows()[:1], SCHEDULE_COLUMNS)).decode("utf-8-sig")
    header, first = csv.splitlines()[:2]
    assert header.startswith("No.,Due date,Capital")
    assert first.startswith("1,2026-01-15,")


def test_formula_like_text_is_neutralised_in_csv_and_xlsx() -> None:
    columns = (Column("title", "Title", "Tytuł"), Column("amount", "Amount", "Kwota", Kind.MONEY))
    rows = [
        {"title": '=HYPERLINK("http://evil")', "amount": "-5.00"},
        {"title": "+48 600", "amount": "12.50"},
        {"title": "@SUM(A1)", "amount": "0"},
        {"title": "-2+3", "amount": "1"},
        {"title": "Zapłata", "amount": "2"},
    ]
    df = frame(rows, columns)
    assert df["Title"].tolist() == [
        '\'=HYPERLINK("http://evil")',
        "'+48 600",
        "'@SUM(A1)",
        "'-2+3",
        "Zapłata",
    ]
    assert df["Amount"].tolist() == [-5.0, 12.5, 0.0, 1.0, 2.0]  # numbers are never touched
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(df, columns))).active
    assert sheet["A2"].value == '\'=HYPERLINK("http://evil")' and sheet["A2"].data_type == "s"
    assert neutralise(-5) == -5


def test_streamed_pages_type_cells_and_neutralise_formulas(tmp_path) -> None:
    columns = (
        Column("title", "Title", "Tytuł"),
        Column("due", "Due", "Termin", Kind.DATE),
        Column("amount", "Amount", "Kwota", Kind.MONEY),
    )
    rows = [
        {"title": "=SUM(A1:A9)", "due": date(2026, 3, 15), "amount": Decimal("1234.5")},
        {"title": "Łódź", "due": None, "amount": None},
    ]
    stream = CsvStream(columns, polish=True)
    content = stream.page(rows[:1]) + stream.page(rows[1:])
    table = pd.read_csv(io.BytesIO(content), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(table.columns) == ["Tytuł", "Termin", "Kwota"]
    assert table["Tytuł"].tolist() == ["'=SUM(A1:A9)", "Łódź"]
    assert table["Kwota"][0] == 1234.5 and pd.isna(table["Kwota"][1])
    path = tmp_path / "t.xlsx"
    book = XlsxStream(path, columns, polish=False)
    book.append(rows)
    book.close()
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A2"].value == "=SUM(A1:A9)" and sheet["A2"].data_type == "s"
    assert sheet["A2"].quotePrefix and not sheet["A3"].quotePrefix
    assert sheet["B2"].value == datetime(2026, 3, 15) and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["C2"].value == 1234.5 and sheet["C2"].number_format == "#,##0.00"
    assert sheet["B3"].value is None and sheet["A3"].value == "Łódź"
