"""Reading intake files in chunks: CSV (UTF-8, comma, a header row), XLSX (the first sheet,
a header row) and JSON Lines (one object a line). Memory stays flat whatever the file's length:
CSV goes through pandas in chunks, XLSX through openpyxl's read-only mode row by row (pandas
cannot stream a workbook), JSON Lines line by line.

Each row comes with its number as an editor shows it: the header is row 1 of a CSV or a sheet,
so the first record is row 2; a JSON Lines record is numbered by its line.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook  # type: ignore[import-untyped]

from intake.fields import as_text


class FileFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"

    @classmethod
    def of(cls, path: Path) -> FileFormat:
        """From the extension: .csv, .xlsx, .jsonl (or .ndjson)."""
        suffix = path.suffix.lower().lstrip(".")
        return cls.JSONL if suffix == "ndjson" else cls(suffix)


@dataclass(frozen=True, slots=True)
class Record:
    row: int
    cells: dict[str, str | None]


class UnreadableFile(Exception):
    """The file as a whole cannot be read (not its rows: those are reported one by one)."""


def record_of(row: int, raw: dict[Any, Any]) -> Record:
    return Record(row, {str(key).strip(): as_text(value) for key, value in raw.items()})


def _csv(path: Path, chunk: int) -> Iterator[list[Record]]:
    reader = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",  # what Excel writes as "CSV UTF-8"
        chunksize=chunk,
    )
    row = 2
    for frame in reader:
        records = [record_of(row + i, raw) for i, raw in enumerate(frame.to_dict("records"))]
        row += len(records)
        yield records


def _xlsx(path: Path, chunk: int) -> Iterator[list[Record]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(name or "").strip() for name in next(rows, ())]
        numbered = enumerate(rows, start=2)
        while batch := list(islice(numbered, chunk)):
            yield [
                record_of(n, dict(zip(header, values, strict=False)))
                for n, values in batch
                if any(value is not None for value in values)
            ]
    finally:
        workbook.close()


def _jsonl(path: Path, chunk: int) -> Iterator[list[Record]]:
    with path.open(encoding="utf-8-sig") as lines:
        numbered = enumerate(lines, start=1)
        while batch := list(islice(numbered, chunk)):
            yield [Record(n, parse_object(line, n)) for n, line in batch if line.strip()]


def parse_object(line: str, number: int) -> dict[str, str | None]:
    """One JSON object's cells; amounts as written, never through a binary float."""
    try:
        value = json.loads(line, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise UnreadableFile(f"line {number}: not JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise UnreadableFile(f"line {number}: not a JSON object")
    return record_of(number, value).cells


def chunks(path: Path, file_format: FileFormat, *, chunk: int) -> Iterator[list[Record]]:
    readers = {FileFormat.CSV: _csv, FileFormat.XLSX: _xlsx, FileFormat.JSONL: _jsonl}
    try:
        yield from readers[file_format](path, chunk)
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as error:
        raise UnreadableFile(str(error)) from None


def count_rows(path: Path, file_format: FileFormat) -> int:
    """Records in the file, for the progress bar: lines without the header, or the sheet's
    stated dimension (which may count trailing empty rows)."""
    if file_format is FileFormat.XLSX:
        workbook = load_workbook(path, read_only=True)
        try:
            return max(0, (workbook.worksheets[0].max_row or 1) - 1)
        finally:
            workbook.close()
    with path.open("rb") as data:
        lines = sum(block.count(b"\n") for block in iter(lambda: data.read(1 << 20), b""))
    return max(0, lines - 1) if file_format is FileFormat.CSV else lines
