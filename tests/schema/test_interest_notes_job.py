"""The monthly interest-note job (issue 13 point 5), as the staff mutation `interestNotesIssue`
and as `leasehub interest-notes --month`: interest notes only for money booked after the
invoice's legal deadline (art. 115 KC), to the grosz, never twice. Every amount in the comments
is worked by hand; each test works in a month of its own, so the summaries count its invoices.
The demo data ends in March 2024: the 2025 and 2026 months here hold only these invoices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from auth.passwords import hash_password
from hub.cli import build_parser
from hub.demo import DEMO_PASSWORD, DemoSpec, load_demo
from models.document import Document
from models.identity import StaffRole, User
from models.outbox import OutboxMessage
from resolvers.ids import from_global_id
from tests.auth.helpers import staff_token, token_of
from tests.conftest import DatabaseFactory, Hub, count_statements, open_hub, settings_for
from tests.schema.test_interest_notes import invoice_paid, notes_of, printed

D = Decimal
DEMO = DemoSpec(clients=2, seed=11, today=date(2024, 3, 1))
ISSUE = """mutation($month: String!) {
  interestNotesIssue(input: {month: $month}) {
    summary { month invoices latePayments issued interest { amount currency }
              notes { id number amount { amount } }
              skipped { invoiceId invoiceNumber bookedOn code message } }
    errors { field code message } } }"""


@pytest.fixture(scope="module")
async def job(databases: DatabaseFactory) -> AsyncIterator[Hub]:
    """A database of this module's own: the job looks at every client's payments."""
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DEMO)
    yield hub
    await hub.close()
    await db.dispose()


async def run(hub: Hub, month: str, token: str = "") -> dict[str, Any]:
    staff = token or await staff_token(hub, StaffRole.FINANCE)
    body = await hub.gql(ISSUE, {"month": month}, token=staff)
    assert "errors" not in body, body
    return body["data"]["interestNotesIssue"]  # type: ignore[no-any-return]


async def summary_of(hub: Hub, month: str, token: str = "") -> dict[str, Any]:
    answer = await run(hub, month, token)
    assert answer["errors"] == []
    return answer["summary"]  # type: ignore[no-any-return]


async def notices_of(hub: Hub, client: str) -> list[OutboxMessage]:
    async with hub.db.read() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.client_id == from_global_id(client)[1],
            OutboxMessage.template == "document_issued",
        )
        return list((await session.execute(query)).scalars())


async def test_an_invoice_paid_late_in_the_month_gets_one_note_to_the_grosz(job: Hub) -> None:
    """Due Friday 13.06.2025, 12,300.00 booked 15.07.2025: late from 14.06, over 1 July.
    14–30 June, 17 days at 15.75 %: 12,300 × 0.1575 × 17 / 365 = 90.2280…
    1–15 July, 15 days at 15.25 %:  12,300 × 0.1525 × 15 / 365 = 77.0856…
    together 167.3136… → 167.31."""
    client, invoice = await invoice_paid(
        job, due=date(2025, 6, 13), gross="12300.00", paid=((date(2025, 7, 15), "12300.00"),)
    )
    summary = await summary_of(job, "2025-07")
    assert (summary["month"], summary["invoices"], summary["latePayments"]) == ("2025-07", 1, 1)
    assert summary["issued"] == 1 and summary["skipped"] == []
    assert summary["interest"] == {"amount": "167.31", "currency": "PLN"}
    [issued] = summary["notes"]
    assert issued["number"].startswith("NO/") and issued["amount"] == {"amount": "167.31"}
    [note] = await notes_of(job, invoice)
    assert (note.basis_amount, note.period_start, note.period_end) == (
        D("12300.00"),
        date(2025, 6, 14),
        date(2025, 7, 15),
    )
    assert note.annual_rate is None  # the statutory rates, half-year by half-year
    text = await printed(job, issued["id"])
    assert "14.06.2025 – 30.06.2025 17 15,75% 90,23 PLN" in text
    assert "01.07.2025 – 15.07.2025 15 15,25% 77,08 PLN" in text
    assert "Do zapłaty: 167,31 PLN" in text
    notices = [n for n in await notices_of(job, client) if issued["number"] in n.subject]
    assert [n.subject for n in notices] == [f"Nowy dokument {issued['number']}"]  # Polish


async def test_invoices_paid_on_time_or_not_at_all_get_no_note(job: Hub) -> None:
    # Due Saturday 29.11.2025, booked Monday 1.12.2025: on its legal deadline (art. 115 KC).
    client, on_time = await invoice_paid(
        job, due=date(2025, 11, 29), gross="1230.00", paid=((date(2025, 12, 1), "1230.00"),)
    )
    # Due Thursday 25.12.2025 (holidays, then a weekend): the deadline is Monday 29.12.
    _, after_holidays = await invoice_paid(
        job, due=date(2025, 12, 25), gross="2460.00", paid=((date(2025, 12, 29), "2460.00"),)
    )
    _, unpaid = await invoice_paid(job, due=date(2025, 11, 14), gross="3690.00", paid=())
    notices = len(await notices_of(job, client))
    summary = await summary_of(job, "2025-12")
    assert (summary["invoices"], summary["latePayments"], summary["issued"]) == (2, 0, 0)
    assert summary["interest"]["amount"] == "0.00" and summary["skipped"] == []
    for invoice in (on_time, after_holidays, unpaid):
        assert await notes_of(job, invoice) == []
    assert len(await notices_of(job, client)) == notices  # no e-mail either


async def test_a_partly_late_invoice_is_charged_on_the_late_part_only(job: Hub) -> None:
    """Due Friday 9.01.2026: 4,000.00 booked that day (on time), 6,000.00 on 30.01.2026.
    10–30 January, 21 days at 14.00 % on 6,000: 6,000 × 0.14 × 21 / 365 = 48.3287… → 48.33."""
    _, invoice = await invoice_paid(
        job,
        due=date(2026, 1, 9),
        gross="10000.00",
        paid=((date(2026, 1, 9), "4000.00"), (date(2026, 1, 30), "6000.00")),
    )
    summary = await summary_of(job, "2026-01")
    assert (summary["invoices"], summary["latePayments"], summary["issued"]) == (1, 1, 1)
    assert summary["interest"]["amount"] == "48.33"
    [note] = await notes_of(job, invoice)
    assert (note.basis_amount, note.period_start, note.period_end, note.amount) == (
        D("6000.00"),
        date(2026, 1, 10),
        date(2026, 1, 30),
        D("48.33"),
    )


async def test_late_parts_booked_in_two_months_get_a_note_each(job: Hub) -> None:
    """Due Friday 29.08.2025, late from 30.08, 15.25 % all along:
    3,000.00 booked 15.09: 17 days, 3,000 × 0.1525 × 17 / 365 = 21.3082… → 21.31;
    2,000.00 booked 10.10: 42 days, 2,000 × 0.1525 × 42 / 365 = 35.0958… → 35.10."""
    _, invoice = await invoice_paid(
        job,
        due=date(2025, 8, 29),
        gross="5000.00",
        paid=((date(2025, 9, 15), "3000.00"), (date(2025, 10, 10), "2000.00")),
    )
    assert (await summary_of(job, "2025-09"))["interest"]["amount"] == "21.31"
    assert (await summary_of(job, "2025-10"))["interest"]["amount"] == "35.10"
    for month in ("2025-09", "2025-10"):  # again: nothing new
        again = await summary_of(job, month)
        assert again["issued"] == 0 and [s["code"] for s in again["skipped"]] == ["NOTE_EXISTS"]
    notes = await notes_of(job, invoice)
    assert [(n.basis_amount, n.period_end, n.amount) for n in notes] == [
        (D("3000.00"), date(2025, 9, 15), D("21.31")),
        (D("2000.00"), date(2025, 10, 10), D("35.10")),
    ]


async def test_a_note_issued_by_hand_for_the_period_is_not_issued_again(job: Hub) -> None:
    # Due Monday 31.03.2025, booked 6.05.2025: staff charged 1–30 April by hand already.
    client, invoice = await invoice_paid(
        job, due=date(2025, 3, 31), gross="1230.00", paid=((date(2025, 5, 6), "1230.00"),)
    )
    by_hand = """mutation($c: ID!, $inv: ID!) { documentIssue(input: {clientId: $c,
      kind: INTEREST_NOTE, title: "Nota", issueDate: "2025-05-07", invoiceId: $inv,
      basisAmount: "1230.00", periodStart: "2025-04-01", periodEnd: "2025-04-30"}) {
      errors { code } } }"""
    staff = await staff_token(job, StaffRole.FINANCE)
    body = await job.gql(by_hand, {"c": client, "inv": invoice}, token=staff)
    assert body["data"]["documentIssue"]["errors"] == []
    summary = await summary_of(job, "2025-05")
    assert summary["issued"] == 0
    [skipped] = summary["skipped"]
    assert (skipped["invoiceId"], skipped["bookedOn"], skipped["code"]) == (
        invoice,
        "2025-05-06",
        "NOTE_EXISTS",
    )
    assert len(await notes_of(job, invoice)) == 1


async def test_twenty_parallel_runs_of_a_month_issue_each_note_once(job: Hub) -> None:
    """Two invoices paid late in March 2025, 15.75 % all along:
    due Friday 14.02.2025, 1,230.00 booked 3.03: 15.02–3.03 = 17 days → 9.0226… → 9.02;
    due Monday 24.02.2025, 24,600.00 booked 31.03: 25.02–31.03 = 35 days → 371.5274… → 371.53."""
    _, first = await invoice_paid(
        job, due=date(2025, 2, 14), gross="1230.00", paid=((date(2025, 3, 3), "1230.00"),)
    )
    _, second = await invoice_paid(
        job, due=date(2025, 2, 24), gross="24600.00", paid=((date(2025, 3, 31), "24600.00"),)
    )
    staff = await staff_token(job, StaffRole.FINANCE)  # one login, before the race
    answers = await asyncio.gather(*(run(job, "2025-03", staff) for _ in range(20)))
    assert all(answer["errors"] == [] for answer in answers)
    assert sum(answer["summary"]["issued"] for answer in answers) == 2
    issued = [note["amount"]["amount"] for a in answers for note in a["summary"]["notes"]]
    assert sorted(issued) == ["371.53", "9.02"]
    assert [n.amount for n in await notes_of(job, first)] == [D("9.02")]
    assert [n.amount for n in await notes_of(job, second)] == [D("371.53")]
    again = await summary_of(job, "2025-03", staff)
    assert again["issued"] == 0 and [s["code"] for s in again["skipped"]] == ["NOTE_EXISTS"] * 2


async def test_examining_a_month_costs_the_same_statements_for_more_invoices(job: Hub) -> None:
    staff = await staff_token(job, StaffRole.FINANCE)

    async def statements_of_a_run(on_time: int) -> int:
        for _ in range(on_time):  # due and booked Monday 2.06.2025: on time
            await invoice_paid(
                job, due=date(2025, 6, 2), gross="123.00", paid=((date(2025, 6, 2), "123.00"),)
            )
        with count_statements(job.db) as statements:
            summary = await summary_of(job, "2025-06", staff)
        assert summary["latePayments"] == 0
        return len(statements)

    await statements_of_a_run(1)  # the session's first use reads more: warm it up
    assert await statements_of_a_run(1) == await statements_of_a_run(5)


async def test_only_acting_staff_run_the_job(job: Hub) -> None:
    _, invoice = await invoice_paid(
        job, due=date(2025, 3, 31), gross="1230.00", paid=((date(2025, 4, 30), "1230.00"),)
    )
    async with job.db.write() as session:
        session.add(
            User(
                email="klient.odsetki@example.pl",
                first_name="Anna",
                last_name="Klient",
                password_hash=hash_password(DEMO_PASSWORD),
            )
        )
    client = await token_of(job, "klient.odsetki@example.pl")
    auditor = await staff_token(job, StaffRole.AUDITOR)
    for token in (auditor, client):
        body = await job.gql(ISSUE, {"month": "2025-04"}, token=token)
        assert body["data"] is None or body["data"]["interestNotesIssue"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert await notes_of(job, invoice) == []


@pytest.mark.parametrize(
    ("month", "code"),
    [
        ("2025-13", "INVALID_MONTH"),
        ("2025-7", "INVALID_MONTH"),
        ("lipiec 2025", "INVALID_MONTH"),
        ("", "INVALID_MONTH"),
        ("2099-01", "MONTH_IN_FUTURE"),
    ],
)
async def test_a_malformed_or_future_month_is_refused(job: Hub, month: str, code: str) -> None:
    answer = await run(job, month)
    assert answer["summary"] is None
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [("month", code)]
    polish = "Podaj miesiąc w formacie RRRR-MM" if code == "INVALID_MONTH" else "Miesiąc 2099-01"
    assert answer["errors"][0]["message"].startswith(polish)  # Polish by default


async def cli(url: str, *argv: str) -> int:
    """The command as typed; it runs an event loop of its own: off this one, in a thread."""
    args = build_parser().parse_args(["interest-notes", *argv])
    return int(await asyncio.to_thread(args.handler, settings_for(url), args))


async def test_the_command_prints_its_summary_and_issues_nothing_twice(
    databases: DatabaseFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Due Friday 14.02.2025, 1,230.00 booked 3.03.2025: 17 days at 15.75 % → 9.02; another
    invoice booked on time (due Monday 3.03.2025) is examined and charged nothing."""
    url = await databases.create()
    hub, db = await open_hub(url)
    try:
        await load_demo(db.engine, DEMO)
        _, late = await invoice_paid(
            hub, due=date(2025, 2, 14), gross="1230.00", paid=((date(2025, 3, 3), "1230.00"),)
        )
        await invoice_paid(
            hub, due=date(2025, 3, 3), gross="615.00", paid=((date(2025, 3, 3), "615.00"),)
        )
        assert await cli(url, "--month", "2025-03") == 0
        err = capsys.readouterr().err
        assert (
            "interest-notes: 2025-03: 2 invoices examined, 1 late payments, 1 notes issued "
            "(9.02 PLN interest), 0 skipped"
        ) in err
        assert "late payments [" in err  # the progress bar
        [note] = await notes_of(hub, late)
        assert f"issued: {note.number} 9.02 PLN" in err
        assert await cli(url, "--month", "2025-03") == 0
        err = capsys.readouterr().err
        assert "0 notes issued (0.00 PLN interest), 1 skipped" in err
        assert "booked 2025-03-03: NOTE_EXISTS" in err
        assert await cli(url, "--month", "2025-3") == 1
        assert "Give the month as YYYY-MM" in capsys.readouterr().err
        async with db.read() as session:
            assert len((await session.execute(select(Document.id))).all()) >= 1
    finally:
        await hub.close()
        await db.dispose()
