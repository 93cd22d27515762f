"""Tables written page by page, for BI pulls of any length with flat memory.

A whole-table pandas frame (`exports/tables.py`) suits a schedule; a pull of 100,000 rows is
written a page at a time instead: CSV rows straight through the `csv` module (a frame per page
cost twice the time), XLSX through XlsxWriter's constant-memory mode, which flushes each row to
disk (openpyxl's write-only mode was 2-3 times slower per cell). CSV text that a spreadsheet
would run as a formula gets a leading apostrophe; XLSX text is stored as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import xlsxwriter

from exports.tables import FORMULA_PREFIXES, NUMBER_FORMATS, Column, Kind, cell, neutralise


def _money(polish: bool) -> Callable[[Any], str]:
    return (lambda v: f"{v:.2f}".replace(".", ",")) if polish else (lambda v: f"{v:.2f}")


def _text(kind: Kind, polish: bool) -> Callable[[Any], str]:
    """How a value reads in CSV, straight from the row (hot: a call per cell); the forms
    pandas writes and reads back."""
    if kind is Kind.MONEY:
        return _money(polish)
    if kind is Kind.PERCENT:
        percent = _money(polish)
        return lambda v: percent(Decimal(v) * 100)
    if kind is Kind.TIMESTAMP:
        return lambda v: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if kind is Kind.DATE:
        return date.isoformat
    if kind is Kind.INTEGER:
        return lambda v: str(int(v))
    if kind is Kind.BOOLEAN:
        return lambda v: str(bool(v))
    return lambda v: neutralise(v.value if isinstance(v, Enum) else str(v))


class CsvStream:
    """UTF-8 CSV pages; the first carries the BOM and the header (Polish: ';' and ',')."""

    def __init__(self, columns: Sequence[Column], *, polish: bool) -> None:
        self._columns = columns
        self._polish = polish
        self._formats = [(c.key, _text(c.kind, polish)) for c in columns]
        self._started = False

    def page(self, rows: Iterable[dict[str, Any]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";" if self._polish else ",", lineterminator="\n")
        if not self._started:
            self._started = True
            buffer.write("\ufeff")
            writer.writerow([c.polish if self._polish else c.english for c in self._columns])
        formats = self._formats
        for row in rows:
            values = ((row.get(key), text) for key, text in formats)
            writer.writerow(["" if value is None else text(value) for value, text in values])
        return buffer.getvalue().encode("utf-8")


class XlsxStream:
    """An XLSX written row by row to `path`; memory stays flat however long the table is."""

    def __init__(
        self, path: Path, columns: Sequence[Column], *, polish: bool, sheet: str = "Dane"
    ) -> None:
        # Row data waits in temporary files next to the workbook, not in the system's folder.
        options = {"constant_memory": True, "tmpdir": str(path.parent)}
        self._book = xlsxwriter.Workbook(str(path), options)
        self._sheet = self._book.add_worksheet(sheet)
        self._columns = [(c.key, c.kind, self._format(c.kind)) for c in columns]
        self._row = 0
        self._quoted = self._book.add_format({"quote_prefix": True})
        titles = [c.polish if polish else c.english for c in columns]
        for index, title in enumerate(titles):
            self._sheet.set_column(index, index, max(12, len(title) + 2))
        self._sheet.write_row(0, 0, titles)

    def _format(self, kind: Kind) -> Any:
        number_format = NUMBER_FORMATS.get(kind)
        return self._book.add_format({"num_format": number_format}) if number_format else None

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        sheet = self._sheet
        for row in rows:
            self._row += 1
            for index, (key, kind, style) in enumerate(self._columns):
                value = row.get(key)
                if value is None:
                    continue
                if kind is Kind.TEXT:
                    self._text(index, value.value if isinstance(value, Enum) else str(value))
                    continue
                value = cell(value, kind)
                if isinstance(value, date) and not isinstance(value, datetime):
                    value = datetime(value.year, value.month, value.day)
                sheet.write(self._row, index, value, style)

    def _text(self, index: int, text: str) -> None:
        """Text is never a formula here; one that looks like one also gets Excel's quote
        prefix, so editing the cell keeps it text, and the value stays as it was."""
        quoted = self._quoted if text.startswith(FORMULA_PREFIXES) else None
        self._sheet.write_string(self._row, index, text, quoted)

    def close(self, *, complete: bool = True) -> None:
        """Finished either way; a workbook of a failed pull is never sent (XLSX goes whole)."""
        self._book.close()


class CsvFile:
    """CSV pages appended to `path`, each flushed as written, so that the server can stream the
    file while a worker process is still writing it."""

    def __init__(self, path: Path, columns: Sequence[Column], *, polish: bool) -> None:
        self._stream = CsvStream(columns, polish=polish)
        self._file = path.open("ab")

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        self._file.write(self._stream.page(rows))
        self._file.flush()

    def close(self, *, complete: bool = True) -> None:
        """A complete pull with no rows still gets its header; a failed one gets nothing more:
        while the file is empty the server can still answer the failure with an error status
        instead of starting a 200 it would have to cut."""
        if complete:
            self._file.write(self._stream.page([]))
        self._file.close()
