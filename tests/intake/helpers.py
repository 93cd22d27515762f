"""Running imports in tests: the example files of tests/data/intake (the README's), in fresh
databases, in each file format."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, select

from auth.clock import warsaw_today
from intake.files import FileFormat
from intake.run import Summary, import_file, kind_of
from models.base import utcnow
from models.outbox import OutboxMessage
from tests.conftest import DatabaseFactory, Hub, open_hub

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "intake"
ORDER = (
    "clients",
    "contracts",
    "items",
    "schedules",
    "policies",
    "invoices",
    "payments",
    "documents",
)
PORTAL = "https://portal.test"


@pytest.fixture
async def fresh(databases: DatabaseFactory) -> AsyncIterator[Hub]:
    """An empty hub of its own: imports change it."""
    hub, db = await open_hub(await databases.create())
    yield hub
    await hub.close()
    await db.dispose()


async def run(
    hub: Hub, kind: str, path: Path, *, dry_run: bool = False, batch_rows: int = 1000
) -> Summary:
    chosen = kind_of(kind, today=warsaw_today(utcnow()))
    assert chosen is not None
    return await import_file(
        hub.db,
        kind=chosen,
        path=path,
        file_format=FileFormat.of(path),
        dry_run=dry_run,
        portal_url=PORTAL,
        batch_rows=batch_rows,
        settings=hub.settings,
    )


async def run_examples(hub: Hub, kinds: tuple[str, ...] = ORDER) -> dict[str, Summary]:
    return {kind: await run(hub, kind, EXAMPLES / f"{kind}.csv") for kind in kinds}


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as source:
        return list(csv.DictReader(source))


def as_xlsx(source: Path, target: Path) -> Path:
    """The CSV as a spreadsheet person would keep it: numbers as numbers, empty cells empty."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    rows = read_csv(source)
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append([_typed(value) for value in row.values()])
    workbook.save(target)
    return target


def _typed(value: str) -> Any:
    if not value:
        return None
    if value.startswith("+") or (value.startswith("0") and value[:2] != "0."):
        return value  # a phone number or a leading zero a spreadsheet keeps as text
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


def as_jsonl(source: Path, target: Path) -> Path:
    with target.open("w", encoding="utf-8") as out:
        for row in read_csv(source):
            out.write(json.dumps({k: v for k, v in row.items() if v}, ensure_ascii=False) + "\n")
    return target


async def outbox_count(hub: Hub) -> int:
    async with hub.db.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        )


def codes(summary: Summary) -> set[tuple[int, str | None, str]]:
    return {(error.row, error.field, error.code) for error in summary.errors}
