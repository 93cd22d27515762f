"""Tables for people and BI tools: pandas frames written as CSV (UTF-8 with BOM) or XLSX.

Pure functions: rows in, bytes out. Columns are typed (dates stay dates, money is a number with
two decimals), and text that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from enum import Enum
from typing import Any

import pandas as pd

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class TableFormat(Enum):
    CSV = "csv"
    XLSX = "xlsx"


class ScheduleFormat(Enum):
    XLSX = "xlsx"
    CSV = "csv"
    PDF = "pdf"


class Kind(Enum):
    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    DATE = "date"
    PERCENT = "percent"  # a fraction such as 0.0899, shown as 8.99
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # written as naive UTC: spreadsheets know no time zones


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    english: str
    polish: str
    kind: Kind = Kind.TEXT
    total: bool = False  # summed in the totals row


def neutralise(value: Any) -> Any:
    """Text that would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell(value: Any, kind: Kind) -> Any:
    """A value as its column's type: money and percentages as numbers, timestamps naive UTC."""
    if value is None:
        return None
    if kind is Kind.MONEY:
        return float(Decimal(value).quantize(Decimal("0.01")))
    if kind is Kind.PERCENT:
        return float((Decimal(value) * 100).quantize(Decimal("0.01")))
    if kind is Kind.DATE:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if kind is Kind.TIMESTAMP:
        return value.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    if kind in (Kind.INTEGER, Kind.BOOLEAN):
        return bool(value) if kind is Kind.BOOLEAN else int(value)
    return neutralise(value.value if isinstance(value, Enum) else str(value))


NUMBER_FORMATS = {
    Kind.MONEY: "#,##0.00",
    Kind.PERCENT: "0.00",
    Kind.DATE: "yyyy-mm-dd",
    Kind.TIMESTAMP: "yyyy-mm-dd hh:mm:ss",
}


def frame(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[Column],
    *,
    polish: bool = False,
    totals: bool = False,
) -> pd.DataFrame:
    """A typed frame; with `totals`, a last row sums the money columns marked `total`."""
    data = [{c.key: cell(row.get(c.key), c.kind) for c in columns} for row in rows]
    df = pd.DataFrame(data, columns=[c.key for c in columns])
    for column in columns:
        if column.kind is Kind.DATE:
            df[column.key] = pd.to_datetime(df[column.key]).dt.date
    if totals:
        label = "Razem" if polish else "Total"
        total_row: dict[str, Any] = {c.key: None for c in columns}
        total_row[columns[0].key] = label
        for column in columns:
            if column.total:
                total_row[column.key] = round(sum(v for v in df[column.key] if v is not None), 2)
        df = pd.concat([df, pd.DataFrame([total_row])], ignore_index=True)
        for column in columns:  # a None in the totals row must not make a column text
            if column.kind in (Kind.MONEY, Kind.PERCENT):
                df[column.key] = pd.to_numeric(df[column.key])
    df.columns = [c.polish if polish else c.english for c in columns]
    return df


def to_csv(df: pd.DataFrame, *, polish: bool = False) -> bytes:
    """UTF-8 with a BOM, so Excel reads Polish letters right; Polish Excel wants ';' and ','."""
    text = df.to_csv(
        index=False,
        sep=";" if polish else ",",
        decimal="," if polish else ".",
        float_format="%.2f",
        date_format="%Y-%m-%d %H:%M:%S",  # timestamps; dates are objects printed as ISO
    )
    return ("\ufeff" + text).encode("utf-8")


def to_xlsx(df: pd.DataFrame, columns: Sequence[Column], *, sheet: str = "Dane") -> bytes:
    """An XLSX with typed cells: dates formatted as dates, money with two decimals."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        df.to_excel(writer, index=False, sheet_name=sheet)
        worksheet = writer.sheets[sheet]
        for index, column in enumerate(columns, start=1):
            letter = worksheet.cell(row=1, column=index).column_letter
            worksheet.column_dimensions[letter].width = max(12, len(str(df.columns[index - 1])) + 2)
            number_format = NUMBER_FORMATS.get(column.kind)
            if number_format:
                for (cell,) in worksheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = number_format
    return buffer.getvalue()


SCHEDULE_COLUMNS = (
    Column("number", "No.", "Nr raty", Kind.INTEGER),
    Column("due_date", "Due date", "Termin płatności", Kind.DATE),
    Column("capital", "Capital", "Kapitał", Kind.MONEY, total=True),
    Column("interest", "Interest", "Odsetki", Kind.MONEY, total=True),
    Column("net", "Net", "Netto", Kind.MONEY, total=True),
    Column("vat", "VAT", "VAT", Kind.MONEY, total=True),
    Column("gross", "Gross", "Brutto", Kind.MONEY, total=True),
    Column("remaining_capital", "Remaining capital", "Kapitał pozostały do spłaty", Kind.MONEY),
)
