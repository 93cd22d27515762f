"""`leasehub interest-rate`: the statutory late-interest table as migrated (seeded from the
shipped file), listed with its sources, and the next half-year added once announced."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.cli import build_parser
from hub.db import Database
from models.interest import StatutoryInterestRate
from tests.conftest import DatabaseFactory, settings_for


async def run(url: str, *argv: str) -> int:
    """The command as typed; it runs an event loop of its own: off this one, in a thread."""
    args = build_parser().parse_args(["interest-rate", *argv])
    return int(await asyncio.to_thread(args.handler, settings_for(url), args))


async def stored(url: str) -> dict[date, tuple[Decimal, str]]:
    db = Database.from_url(url)
    try:
        async with db.read() as session:
            rows = (await session.execute(select(StatutoryInterestRate))).scalars().all()
    finally:
        await db.dispose()
    return {row.valid_from: (row.annual_rate, row.source) for row in rows}


async def test_the_migrated_table_is_listed_with_its_sources(
    databases: DatabaseFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await databases.create()
    assert await run(url, "list") == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "2016-01-01    9.50 %  M.P. 2016 poz. 43 (NBP reference rate 1.50 % + 8 pp)"
    assert lines[-1] == "2026-01-01   14.00 %  NBP reference rate 4.00 % (from 2025-12-04) + 10 pp"
    assert len(lines) == 21
    assert "interest-rate: 21 half-years" in err


async def test_the_next_half_year_is_added_once(
    databases: DatabaseFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await databases.create()
    added = ("add", "--from", "2026-07-01", "--rate", "0.1375", "--source", "M.P. 2026 poz. 700")
    assert await run(url, *added) == 0
    assert (
        "interest-rate: added 13.75 % from 2026-07-01 (M.P. 2026 poz. 700)"
        in capsys.readouterr().err
    )
    assert (await stored(url))[date(2026, 7, 1)] == (Decimal("0.1375"), "M.P. 2026 poz. 700")
    assert await run(url, *added) == 1
    assert "the table already has the half-year from 2026-07-01" in capsys.readouterr().err
    assert len(await stored(url)) == 22


@pytest.mark.parametrize(
    ("valid_from", "rate", "reason"),
    [
        ("2026-07-02", "0.1375", "1 January or 1 July"),
        ("2026-01-01", "0.1400", "already has the half-year"),
        ("2026-07-01", "13.75", "a fraction from 0.08 to 0.40"),
        ("2026-07-01", "0.05", "a fraction from 0.08 to 0.40"),  # below reference rate 0 + 8 pp
        ("2026-07-01", "0.13755", "at most 4 decimal places"),
        ("2099-01-01", "0.1375", "not known yet"),
    ],
)
async def test_a_wrong_half_year_or_rate_is_refused(
    databases: DatabaseFactory,
    capsys: pytest.CaptureFixture[str],
    valid_from: str,
    rate: str,
    reason: str,
) -> None:
    url = await databases.create()
    before = await stored(url)
    code = await run(url, "add", "--from", valid_from, "--rate", rate, "--source", "M.P. 2026")
    assert code == 1
    assert reason in capsys.readouterr().err
    assert await stored(url) == before


async def test_a_source_is_required(
    databases: DatabaseFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await databases.create()
    code = await run(url, "add", "--from", "2026-07-01", "--rate", "0.1375", "--source", " ")
    assert code == 1 and "give the source" in capsys.readouterr().err


async def test_an_unmigrated_database_is_named_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    assert await run(url, "list") == 2
    err = capsys.readouterr().err
    assert "run `leasehub migrate` first" in err and "Traceback" not in err
