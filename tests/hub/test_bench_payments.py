"""The cheap parts of bench/payments.py, run for real: the MT940 file it writes is read by the
hub's parser credit for credit, and `leasehub import-statement` books it on a small SQLite demo
(matched credits as payments, the unmatched ones kept for nobody), then books nothing again."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bench.payments import (
    COLLECTIVE,
    Credit,
    Target,
    booked,
    child_import,
    mt940_file,
    plan_credits,
    targets,
)
from hub.db import make_engine
from hub.demo import DemoSpec, load_demo
from hub.migrate import upgrade
from hub.settings import get_settings
from models.statement import StatementLine
from resolvers.booking import parse_statement

TODAY = date(2026, 11, 30)
OPEN = [
    Target(1, f"FV/2026/11/{n:06d}", Decimal("1230.00") + n, f"PL{n:026d}", "Alfa: Trans")
    for n in range(1, 21)
]
# Paid already: paid again, for what it asked (fewer open invoices than credits).
PAID = [Target(2, "FV/2026/10/000777", Decimal("615.00"), "PL" + "7" * 26, "Beta sp. z o.o.")]


def _plan(open_: list[Target], paid: list[Target]) -> list[Credit]:
    return plan_credits(open_=open_, paid=paid, credits=30, days=3, today=TODAY, seed=5)


def _key(amount: Decimal, title: str) -> tuple[Decimal, str]:
    return amount, "".join(title.split())  # the parser may lose a space where a line breaks


def test_the_generated_statement_parses_with_the_hubs_parser_credit_for_credit() -> None:
    planned = _plan(OPEN, PAID)
    text, statements = mt940_file(planned)
    parsed = parse_statement(text)
    assert (len(parsed.credits), parsed.debits) == (30, statements)  # a fee per statement
    assert all(c.amount > 0 for c in parsed.credits)
    named = Counter(n for c in parsed.credits for n in c.invoice_numbers)
    assert all(named[t.number] <= 1 for t in OPEN) and named[PAID[0].number] >= 1
    assert sorted(_key(c.amount, c.title) for c in parsed.credits) == sorted(
        _key(c.amount, c.title) for c in planned
    )
    kinds = Counter(c.kind for c in planned)
    assert kinds["nobody"] == 3 and kinds["virtual"] >= 4 and kinds["partial"] >= 4
    by_title = {_key(c.amount, c.title): c for c in parsed.credits}
    for credit in planned:
        read = by_title[_key(credit.amount, credit.title)]
        assert read.account == credit.account and read.payer_iban == credit.payer_iban
        if credit.kind == "named":
            assert read.named_accounts and read.account == COLLECTIVE
        elif credit.kind in ("full", "partial", "over"):
            assert read.invoice_numbers and read.invoice_numbers[0] in credit.title
        else:  # a virtual account's own statement, or nobody's money: no number named
            assert not read.invoice_numbers and not read.named_accounts


def test_partial_and_over_payments_differ_from_the_amount_due() -> None:
    planned = _plan(OPEN, PAID)
    due = {t.number: t.due for t in OPEN}
    for credit in planned:
        number = next((n for n in due if n in credit.title), None)
        if credit.kind == "partial" and number:
            assert Decimal("0.01") <= credit.amount < due[number]
        if credit.kind == "over" and number:
            assert credit.amount > due[number]
        if credit.kind == "full" and number:
            assert credit.amount == due[number]


@pytest.fixture
def sqlite_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)

    async def fill() -> None:
        engine = make_engine(url)
        await load_demo(engine, DemoSpec(clients=3, seed=13))
        await engine.dispose()

    asyncio.run(fill())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LEASEHUB_ENV", "test")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def _line_amounts(url: str) -> tuple[Decimal, Decimal]:
    """Amounts of the stored statement lines: booked as payments, and booked to nobody."""
    engine = make_engine(url)
    total = func.coalesce(func.sum(col(StatementLine.amount)), 0)
    async with engine.connect() as connection:
        paid = await connection.scalar(
            select(total).where(col(StatementLine.payment_id).is_not(None))
        )
        nobody = await connection.scalar(
            select(total).where(col(StatementLine.payment_id).is_(None))
        )
    await engine.dispose()
    return Decimal(paid or 0), Decimal(nobody or 0)


def test_the_command_books_the_generated_credits_once(sqlite_demo: str, tmp_path: Path) -> None:
    open_, paid = asyncio.run(targets(sqlite_demo))
    assert open_ and paid and all(t.due > 0 for t in open_ + paid)
    planned = _plan(open_, paid)
    path = tmp_path / "wyciag.sta"
    path.write_text(mt940_file(planned)[0], encoding="utf-8")
    before = asyncio.run(booked(sqlite_demo))
    first = child_import(path, False)
    after = asyncio.run(booked(sqlite_demo))
    matched = [c.amount for c in planned if c.kind != "nobody"]
    assert first["code"] == 0 and first["statements"] >= 5
    assert (after.lines - before.lines, after.payments - before.payments) == (30, len(matched))
    nobody = sum((c.amount for c in planned if c.kind == "nobody"), Decimal(0))
    assert asyncio.run(_line_amounts(sqlite_demo)) == (sum(matched, Decimal(0)), nobody)
    assert after.allocated > before.allocated
    again = child_import(path, False)
    assert again["code"] == 0 and asyncio.run(booked(sqlite_demo)) == after
    assert again["statements"] < first["statements"]
