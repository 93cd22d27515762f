"""Customer service processes requests: take one, move its stage, write to the client, decide,
and an accepted decision's effect on the contract or the company, all or nothing.

Requests are written here as rows (the filing mutation is tested on its own), with the
contract of tests/schema/test_schedule_simulation.py: 10,000.00 PLN at 12 % a year, residual
1,000.00, instalments 1–21 past due and the rest unpaid future ones.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import Database
from hub.demo import DEMO_MAIN_EMAIL, DEMO_STAFF_EMAIL, DemoSpec, load_demo
from models.client import Client
from models.contract import Contract, ContractStatus, Instalment
from models.identity import User
from models.outbox import OutboxMessage
from models.request import (
    Request,
    RequestDecision,
    RequestStage,
    RequestStageEntry,
    RequestType,
    response_due_on,
)
from resolvers import request_processing
from resolvers.ids import from_global_id, to_global_id
from resolvers.request_catalogue import InstalmentOption
from resolvers.simulation import (
    ScheduleChange,
    simulate_schedule_change,
    simulation_to_json,
)
from tests.conftest import DatabaseFactory, Hub, open_hub
from tests.schema.contracts import add_contract, today
from tests.schema.helpers import desk_tokens, error_codes

ASSIGN = """mutation($r: ID!, $a: ID) {
  requestAssign(input: {requestId: $r, assigneeId: $a}) {
    request { id stage assignee { email } history { stage fromClient comment } }
    errors { field code message } } }"""
STAGE = """mutation($r: ID!, $s: RequestStage!, $c: String! = "") {
  requestStageChange(input: {requestId: $r, stage: $s, comment: $c}) {
    request { id stage history { stage fromClient comment } }
    errors { field code message } } }"""
DECIDE = """mutation($r: ID!, $d: RequestDecision!, $a: String!) {
  requestDecide(input: {requestId: $r, decision: $d, answer: $a}) {
    request { id stage history { stage fromClient comment } }
    errors { field code message } } }"""
SCHEDULE = """query($id: ID!) { node(id: $id) { ... on Contract {
  paymentDay termMonths endDate residualValue { amount }
  schedule { number dueDate capital { amount } interest { amount } net { amount } vatCategory
             vat { amount } gross { amount } remainingCapital { amount } } } } }"""
SIMULATE = """query($id: ID!, $change: ScheduleChangeSimulationInput) { node(id: $id) {
  ... on Contract { scheduleSimulation(scheduleChange: $change) { errors { code }
    simulation { instalments { number dueDate capital { amount } interest { amount }
      net { amount } vatCategory vat { amount } gross { amount } remainingCapital { amount } }
  } } } } }"""


# ---- rows written for the tests ------------------------------------------------------------


async def add_request(
    db: Database,
    client_pk: int,
    kind: RequestType = RequestType.COOPERATION_OPINION,
    *,
    contract_pk: int | None = None,
    details: dict[str, Any] | None = None,
    simulation: dict[str, Any] | None = None,
    stage: RequestStage = RequestStage.SUBMITTED,
    due_on: date | None = None,
    assignee_id: int | None = None,
) -> str:
    """A filed request as the filing writes it: the row and its SUBMITTED history entry."""
    async with AsyncSession(db.engine, expire_on_commit=False) as session:
        request = Request(
            client_id=client_pk,
            contract_id=contract_pk,
            number=f"WN/T/{uuid.uuid4().hex[:16]}",
            type=kind,
            stage=stage,
            details=details or {},
            contact_name="Anna Kowalska",
            contact_email="kontakt@firma.test",
            contact_phone="+48 601 234 567",
            due_on=due_on or response_due_on(kind, today()),
            assignee_id=assignee_id,
            simulation=simulation,
        )
        session.add(request)
        await session.flush()
        session.add(
            RequestStageEntry(
                client_id=client_pk,
                request_id=request.id or 0,
                stage=RequestStage.SUBMITTED,
                comment="",
                from_client=True,
            )
        )
        await session.commit()
        return to_global_id("Request", request.id or 0)


async def stored_request(db: Database, global_id: str) -> Request:
    async with AsyncSession(db.engine) as session:
        row = await session.get(Request, from_global_id(global_id)[1])
        assert row is not None
        return row


async def history_of(db: Database, global_id: str) -> list[RequestStageEntry]:
    async with AsyncSession(db.engine) as session:
        query = (
            select(RequestStageEntry)
            .where(RequestStageEntry.request_id == from_global_id(global_id)[1])
            .order_by(RequestStageEntry.id)  # type: ignore[arg-type]
        )
        return list((await session.execute(query)).scalars())


async def instalments_of(db: Database, contract_pk: int) -> list[Instalment]:
    async with AsyncSession(db.engine) as session:
        query = (
            select(Instalment)
            .where(Instalment.contract_id == contract_pk)
            .order_by(Instalment.number)  # type: ignore[arg-type]
        )
        return list((await session.execute(query)).scalars())


async def contract_of(db: Database, contract_pk: int) -> Contract:
    async with AsyncSession(db.engine) as session:
        row = await session.get(Contract, contract_pk)
        assert row is not None
        return row


async def mails_about(db: Database, number: str) -> list[OutboxMessage]:
    async with AsyncSession(db.engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.subject.contains(number))  # type: ignore[attr-defined]
        return list((await session.execute(query)).scalars())


async def stored_simulation(db: Database, contract_pk: int, change: ScheduleChange) -> Any:
    contract = await contract_of(db, contract_pk)
    simulation = simulate_schedule_change(
        contract, await instalments_of(db, contract_pk), today=today(), change=change
    )
    assert not isinstance(simulation, list), simulation
    return simulation_to_json(simulation)


# ---- the module's hub ----------------------------------------------------------------------


@dataclass
class Setup:
    hub: Hub
    client_pk: int
    tokens: dict[str, str]

    @property
    def db(self) -> Database:
        return self.hub.db

    async def gql(self, query: str, who: str = "operator", **variables: Any) -> dict[str, Any]:
        return await self.hub.gql(query, variables, token=self.tokens[who])

    async def ok(self, query: str, who: str = "operator", **variables: Any) -> dict[str, Any]:
        body = await self.gql(query, who, **variables)
        assert "errors" not in body, body["errors"]
        payload: dict[str, Any] = next(iter(body["data"].values()))
        return payload


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["errors"]]


@pytest.fixture(scope="module")
async def setup(databases: DatabaseFactory) -> AsyncIterator[Setup]:
    hub, db = await open_hub(await databases.create())
    await load_demo(db.engine, DemoSpec(clients=2, seed=11))
    tokens, client_pk = await desk_tokens(hub)
    yield Setup(hub, client_pk, tokens)
    await hub.close()
    await db.dispose()


async def user_pk(db: Database, email: str) -> int:
    async with AsyncSession(db.engine) as session:
        return int((await session.execute(select(User.id).where(User.email == email))).scalar_one())


# ---- taking a request ----------------------------------------------------------------------


async def test_taking_a_submitted_request_assigns_the_caller_and_starts_the_review(
    setup: Setup,
) -> None:
    request_id = await add_request(setup.db, setup.client_pk)
    result = await setup.ok(ASSIGN, r=request_id)
    assert result["errors"] == []
    request = result["request"]
    assert request["stage"] == "IN_REVIEW"
    assert request["assignee"] == {"email": "customer_service@staff.leasehub.pl"}
    assert request["history"][-1] == {"stage": "IN_REVIEW", "fromClient": False, "comment": ""}
    entries = await history_of(setup.db, request_id)
    assert entries[-1].author_id == await user_pk(setup.db, "customer_service@staff.leasehub.pl")


async def test_giving_a_request_in_review_to_another_staff_member_keeps_its_stage(
    setup: Setup,
) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=RequestStage.IN_REVIEW)
    admin = to_global_id("User", await user_pk(setup.db, DEMO_STAFF_EMAIL))
    result = await setup.ok(ASSIGN, r=request_id, a=admin)
    assert result["errors"] == []
    assert result["request"]["stage"] == "IN_REVIEW"
    assert result["request"]["assignee"] == {"email": DEMO_STAFF_EMAIL}
    assert len(await history_of(setup.db, request_id)) == 1  # no stage moved


@pytest.mark.parametrize("who", [DEMO_MAIN_EMAIL, "auditor@staff.leasehub.pl", None])
async def test_a_request_is_given_only_to_staff_who_may_act(setup: Setup, who: str | None) -> None:
    request_id = await add_request(setup.db, setup.client_pk)
    pk = await user_pk(setup.db, who) if who else 999_999
    result = await setup.ok(ASSIGN, r=request_id, a=to_global_id("User", pk))
    assert codes(result) == [("assigneeId", "NOT_FOUND")]
    assert (await stored_request(setup.db, request_id)).assignee_id is None


async def test_a_decided_request_cannot_be_taken(setup: Setup) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=RequestStage.COMPLETED)
    assert codes(await setup.ok(ASSIGN, r=request_id)) == [("requestId", "ALREADY_DECIDED")]


# ---- stage moves ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (RequestStage.SUBMITTED, RequestStage.IN_REVIEW),
        (RequestStage.IN_REVIEW, RequestStage.WAITING_FOR_CLIENT),
        (RequestStage.WAITING_FOR_CLIENT, RequestStage.IN_REVIEW),
        (RequestStage.COMPLETED, RequestStage.CLOSED),
        (RequestStage.REJECTED, RequestStage.CLOSED),
    ],
)
async def test_staff_move_a_request_along_the_allowed_stages(
    setup: Setup, start: RequestStage, target: RequestStage
) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=start)
    result = await setup.ok(STAGE, r=request_id, s=target.value, c="Prosimy o skan umowy.")
    assert result["errors"] == []
    assert result["request"]["stage"] == target.value
    assert result["request"]["history"][-1] == {
        "stage": target.value,
        "fromClient": False,
        "comment": "Prosimy o skan umowy.",
    }
    assert (await stored_request(setup.db, request_id)).stage is target


@pytest.mark.parametrize(
    ("start", "target", "code"),
    [
        (RequestStage.SUBMITTED, RequestStage.WAITING_FOR_CLIENT, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.SUBMITTED, RequestStage.CLOSED, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.IN_REVIEW, RequestStage.CLOSED, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.IN_REVIEW, RequestStage.SUBMITTED, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.WAITING_FOR_CLIENT, RequestStage.CLOSED, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.COMPLETED, RequestStage.IN_REVIEW, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.REJECTED, RequestStage.WAITING_FOR_CLIENT, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.CLOSED, RequestStage.IN_REVIEW, "STAGE_CHANGE_NOT_ALLOWED"),
        (RequestStage.IN_REVIEW, RequestStage.COMPLETED, "USE_REQUEST_DECIDE"),
        (RequestStage.IN_REVIEW, RequestStage.REJECTED, "USE_REQUEST_DECIDE"),
        (RequestStage.IN_REVIEW, RequestStage.IN_REVIEW, "STAGE_UNCHANGED"),
    ],
)
async def test_other_stage_moves_are_refused(
    setup: Setup, start: RequestStage, target: RequestStage, code: str
) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=start)
    result = await setup.ok(STAGE, r=request_id, s=target.value, c="Komentarz")
    assert codes(result) == [("stage", code)]
    assert result["request"] is None
    assert (await stored_request(setup.db, request_id)).stage is start
    assert len(await history_of(setup.db, request_id)) == 1


async def test_asking_the_client_needs_a_comment(setup: Setup) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=RequestStage.IN_REVIEW)
    result = await setup.ok(STAGE, r=request_id, s="WAITING_FOR_CLIENT", c="  ")
    assert codes(result) == [("comment", "REQUIRED")]
    long = await setup.ok(STAGE, r=request_id, s="WAITING_FOR_CLIENT", c="x" * 4001)
    assert codes(long) == [("comment", "TOO_LONG")]
    assert (await stored_request(setup.db, request_id)).stage is RequestStage.IN_REVIEW


async def test_asking_the_client_e_mails_the_contact_in_polish(setup: Setup) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=RequestStage.IN_REVIEW)
    number = (await stored_request(setup.db, request_id)).number
    await setup.ok(STAGE, r=request_id, s="WAITING_FOR_CLIENT", c="Prosimy o skan dowodu.")
    (mail,) = await mails_about(setup.db, number)
    assert mail.recipient == "kontakt@firma.test"
    assert mail.template == "request_waiting"
    assert "oczekujemy od Ciebie na odpowiedź" in mail.subject
    assert "Prosimy o skan dowodu." not in mail.body  # the text stays in the portal
    # Moving on in review writes to nobody.
    await setup.ok(STAGE, r=request_id, s="IN_REVIEW")
    assert len(await mails_about(setup.db, number)) == 1


async def test_a_move_from_a_stage_changed_meanwhile_is_refused(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The move is conditional on the stage it was read in: here another staff member moved
    the request after it was read (a stale read stands for them)."""
    request_id = await add_request(setup.db, setup.client_pk, stage=RequestStage.WAITING_FOR_CLIENT)

    async def stale(_session: Any, _pk: int) -> RequestStage:
        return RequestStage.IN_REVIEW

    monkeypatch.setattr(request_processing, "read_stage", stale)
    result = await setup.ok(STAGE, r=request_id, s="WAITING_FOR_CLIENT", c="Pytanie")
    assert codes(result) == [("stage", "STAGE_CHANGED_MEANWHILE")]
    assert len(await history_of(setup.db, request_id)) == 1


async def test_of_parallel_stage_moves_one_wins(setup: Setup) -> None:
    request_id = await add_request(setup.db, setup.client_pk)
    results = await asyncio.gather(
        *(setup.ok(STAGE, r=request_id, s="IN_REVIEW") for _ in range(20))
    )
    won = [result for result in results if not result["errors"]]
    assert len(won) == 1
    lost = {code for result in results for _field, code in codes(result)}
    assert lost <= {"STAGE_CHANGED_MEANWHILE", "STAGE_UNCHANGED"}
    assert [entry.stage for entry in await history_of(setup.db, request_id)] == [
        RequestStage.SUBMITTED,
        RequestStage.IN_REVIEW,
    ]


async def test_a_missing_request_is_not_found(setup: Setup) -> None:
    missing = to_global_id("Request", 999_999)
    assert codes(await setup.ok(STAGE, r=missing, s="IN_REVIEW")) == [("requestId", "NOT_FOUND")]
    decided = await setup.ok(DECIDE, r=missing, d="REJECTED", a="Nie")
    assert codes(decided) == [("requestId", "NOT_FOUND")]


# ---- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anna", "auditor"])
async def test_clients_and_auditors_cannot_process_requests(setup: Setup, who: str) -> None:
    request_id = await add_request(setup.db, setup.client_pk)
    for query, variables in (
        (STAGE, {"r": request_id, "s": "IN_REVIEW"}),
        (DECIDE, {"r": request_id, "d": "ACCEPTED", "a": "Tak"}),
        (ASSIGN, {"r": request_id}),
    ):
        body = await setup.gql(query, who, **variables)
        assert error_codes(body) == ["FORBIDDEN"], body
    stored = await stored_request(setup.db, request_id)
    assert (stored.stage, stored.decision, stored.assignee_id) == (
        RequestStage.SUBMITTED,
        None,
        None,
    )


async def test_clients_do_not_see_who_took_their_request(setup: Setup) -> None:
    operator = await user_pk(setup.db, "customer_service@staff.leasehub.pl")
    request_id = await add_request(setup.db, setup.client_pk, assignee_id=operator)
    query = "query($id: ID!) { node(id: $id) { ... on Request { assignee { email } } } }"
    client = await setup.gql(query, "anna", id=request_id)
    staff = await setup.gql(query, "auditor", id=request_id)
    assert client["data"]["node"]["assignee"] is None
    assert staff["data"]["node"]["assignee"] == {"email": "customer_service@staff.leasehub.pl"}


# ---- decisions ----------------------------------------------------------------------------


async def test_a_rejection_stores_the_answer_and_e_mails_the_client(setup: Setup) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=RequestStage.IN_REVIEW)
    result = await setup.ok(DECIDE, r=request_id, d="REJECTED", a="Brak podstaw do zmiany.")
    assert result["errors"] == []
    assert result["request"]["stage"] == "REJECTED"
    assert result["request"]["history"][-1] == {
        "stage": "REJECTED",
        "fromClient": False,
        "comment": "Brak podstaw do zmiany.",
    }
    stored = await stored_request(setup.db, request_id)
    assert stored.decision is RequestDecision.REJECTED
    assert stored.answer == "Brak podstaw do zmiany."
    assert stored.decided_at is not None
    (mail,) = await mails_about(setup.db, stored.number)
    assert (mail.template, mail.recipient) == ("request_decided", "kontakt@firma.test")
    assert mail.subject == f"Wniosek {stored.number} został odrzucony"


async def test_an_accepted_request_without_an_effect_is_completed(setup: Setup) -> None:
    request_id = await add_request(setup.db, setup.client_pk, RequestType.POLICY_DUPLICATE)
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Duplikat wysłaliśmy pocztą.")
    assert result["request"]["stage"] == "COMPLETED"
    stored = await stored_request(setup.db, request_id)
    assert stored.decision is RequestDecision.ACCEPTED
    (mail,) = await mails_about(setup.db, stored.number)
    assert mail.subject == f"Wniosek {stored.number} został przyjęty"


@pytest.mark.parametrize(("answer", "code"), [("   ", "REQUIRED"), ("x" * 8001, "TOO_LONG")])
async def test_a_decision_needs_an_answer_of_at_most_8000_characters(
    setup: Setup, answer: str, code: str
) -> None:
    request_id = await add_request(setup.db, setup.client_pk)
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a=answer)
    assert codes(result) == [("answer", code)]
    assert (await stored_request(setup.db, request_id)).decision is None


@pytest.mark.parametrize(
    "stage", [RequestStage.COMPLETED, RequestStage.REJECTED, RequestStage.CLOSED]
)
async def test_only_an_open_request_is_decided(setup: Setup, stage: RequestStage) -> None:
    request_id = await add_request(setup.db, setup.client_pk, stage=stage)
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Tak")
    assert codes(result) == [("requestId", "ALREADY_DECIDED")]
    assert (await stored_request(setup.db, request_id)).stage is stage


async def test_of_parallel_decisions_one_is_made_with_one_effect(setup: Setup) -> None:
    contract_pk = await add_contract(setup.db, setup.client_pk)
    before = await instalments_of(setup.db, contract_pk)
    new_day = 20 if before[0].due_date.day != 20 else 25
    request_id = await add_request(
        setup.db,
        setup.client_pk,
        RequestType.PAYMENT_DAY_CHANGE,
        contract_pk=contract_pk,
        details={"day": new_day, "reason": "CASH_FLOW"},
    )
    results = await asyncio.gather(
        *(
            setup.ok(DECIDE, r=request_id, d=decision, a=f"Decyzja {index}")
            for index, decision in enumerate(["ACCEPTED", "REJECTED"] * 10)
        )
    )
    won = [result for result in results if not result["errors"]]
    assert len(won) == 1
    assert all(codes(r) == [("requestId", "ALREADY_DECIDED")] for r in results if r["errors"])
    stored = await stored_request(setup.db, request_id)
    entries = await history_of(setup.db, request_id)
    assert [entry.stage for entry in entries] == [RequestStage.SUBMITTED, stored.stage]
    assert entries[-1].comment == stored.answer
    assert len(await mails_about(setup.db, stored.number)) == 1
    moved = stored.decision is RequestDecision.ACCEPTED
    assert (await contract_of(setup.db, contract_pk)).payment_day == (
        new_day if moved else before[0].due_date.day
    )


# ---- effects ------------------------------------------------------------------------------


def _amounts(row: Instalment) -> tuple[Any, ...]:
    return (row.number, row.capital, row.interest, row.net, row.vat, row.gross,
            row.remaining_capital)  # fmt: skip


async def test_an_accepted_payment_day_change_moves_only_the_unpaid_future_instalments(
    setup: Setup,
) -> None:
    contract_pk = await add_contract(setup.db, setup.client_pk)
    before = await instalments_of(setup.db, contract_pk)
    old_day = before[0].due_date.day
    new_day = 20 if old_day != 20 else 25
    request_id = await add_request(
        setup.db,
        setup.client_pk,
        RequestType.PAYMENT_DAY_CHANGE,
        contract_pk=contract_pk,
        details={"day": str(new_day), "reason": "CASH_FLOW"},
    )
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Zmieniamy termin płatności.")
    assert result["errors"] == []
    after = await instalments_of(setup.db, contract_pk)
    assert [_amounts(row) for row in after] == [_amounts(row) for row in before]
    assert [row.due_date for row in after[:21]] == [row.due_date for row in before[:21]]
    assert [row.updated_at for row in after[:21]] == [row.updated_at for row in before[:21]]
    assert [row.due_date for row in after[21:]] == [
        row.due_date.replace(day=new_day) for row in before[21:]
    ]
    assert all(a.updated_at > b.updated_at for a, b in zip(after[21:], before[21:], strict=True))
    contract = await contract_of(setup.db, contract_pk)
    assert (contract.payment_day, contract.end_date) == (new_day, after[-1].due_date)
    body = await setup.gql(SCHEDULE, "anna", id=to_global_id("Contract", contract_pk))
    assert body["data"]["node"]["paymentDay"] == new_day


async def _schedule_change(setup: Setup, term: int, change: ScheduleChange) -> tuple[int, str]:
    contract_pk = await add_contract(setup.db, setup.client_pk, term=term)
    request_id = await add_request(
        setup.db,
        setup.client_pk,
        RequestType.SCHEDULE_CHANGE,
        contract_pk=contract_pk,
        simulation=await stored_simulation(setup.db, contract_pk, change),
    )
    return contract_pk, request_id


def _shown(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (row["number"], row["dueDate"], row["capital"]["amount"], row["interest"]["amount"],
         row["net"]["amount"], row["vatCategory"], row["vat"]["amount"], row["gross"]["amount"],
         row["remainingCapital"]["amount"])
        for row in rows
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("term", "months", "numbers"),
    [(24, 25, list(range(1, 26))), (30, 26, list(range(1, 27)))],
    ids=["longer", "shorter"],
)
async def test_an_accepted_schedule_change_applies_the_simulation_shown_before_filing(
    setup: Setup, term: int, months: int, numbers: list[int]
) -> None:
    change = ScheduleChange(months=months, option=InstalmentOption.AUTO)
    contract_pk, request_id = await _schedule_change(setup, term, change)
    contract_id = to_global_id("Contract", contract_pk)
    shown = await setup.gql(SIMULATE, "anna", id=contract_id, change={"months": months})
    simulated = _shown(shown["data"]["node"]["scheduleSimulation"]["simulation"]["instalments"])
    before = await instalments_of(setup.db, contract_pk)

    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Harmonogram zmieniony.")
    assert result["errors"] == []
    body = await setup.gql(SCHEDULE, "anna", id=contract_id)
    contract = body["data"]["node"]
    assert [row["number"] for row in contract["schedule"]] == numbers
    assert _shown(contract["schedule"][21:]) == simulated
    stored = (await stored_request(setup.db, request_id)).simulation
    assert stored is not None
    assert [
        (row["number"], row["dueDate"], row["capital"], row["interest"], row["net"],
         row["vat"], row["gross"], row["remaining_capital"])
        for row in stored["instalments"]
    ] == [(n, d, c, i, net, v, g, r) for n, d, c, i, net, _k, v, g, r in simulated]  # fmt: skip
    assert contract["termMonths"] == months
    assert contract["residualValue"] == {"amount": "1000.00"}
    assert contract["endDate"] == simulated[-1][1]
    after = await instalments_of(setup.db, contract_pk)
    by_number = {row.number: row for row in before}
    kept = [row for row in after if row.number in by_number]
    assert [row.id for row in kept] == [by_number[row.number].id for row in kept]  # in place
    assert all(row.updated_at > by_number[row.number].updated_at for row in kept[21:])
    fixed = [(_amounts(row), row.due_date, row.updated_at) for row in kept[:21]]
    assert fixed == [(_amounts(row), row.due_date, row.updated_at) for row in before[:21]]


async def test_a_schedule_change_whose_instalment_fell_due_since_filing_is_outdated(
    setup: Setup,
) -> None:
    change = ScheduleChange(months=25, option=InstalmentOption.AUTO)
    contract_pk, request_id = await _schedule_change(setup, 24, change)
    async with setup.db.write() as session:  # instalment 22 is due now: fixed
        await session.execute(
            update(Instalment)
            .where(Instalment.contract_id == contract_pk, Instalment.number == 22)  # type: ignore[arg-type]
            .values(due_date=today() - timedelta(days=1))
        )
    before = [_amounts(row) for row in await instalments_of(setup.db, contract_pk)]
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Zmieniamy.")
    assert codes(result) == [("requestId", "SIMULATION_OUTDATED")]
    assert [_amounts(row) for row in await instalments_of(setup.db, contract_pk)] == before
    assert (await contract_of(setup.db, contract_pk)).term_months == 24
    stored = await stored_request(setup.db, request_id)
    assert (stored.stage, stored.decision) == (RequestStage.SUBMITTED, None)
    # Rejecting it still works: nothing is applied.
    rejected = await setup.ok(DECIDE, r=request_id, d="REJECTED", a="Prosimy złożyć ponownie.")
    assert rejected["errors"] == []


async def test_a_schedule_change_of_a_contract_ended_since_filing_is_not_applied(
    setup: Setup,
) -> None:
    change = ScheduleChange(months=25, option=InstalmentOption.AUTO)
    contract_pk, request_id = await _schedule_change(setup, 24, change)
    async with setup.db.write() as session:
        await session.execute(
            update(Contract)
            .where(Contract.id == contract_pk)  # type: ignore[arg-type]
            .values(status=ContractStatus.TERMINATED)
        )
    before = [_amounts(row) for row in await instalments_of(setup.db, contract_pk)]
    result = await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Zmieniamy.")
    assert codes(result) == [("contractId", "CONTRACT_NOT_ACTIVE")]
    assert [_amounts(row) for row in await instalments_of(setup.db, contract_pk)] == before
    assert (await contract_of(setup.db, contract_pk)).term_months == 24
    assert (await stored_request(setup.db, request_id)).decision is None


async def test_a_decision_whose_effect_fails_half_way_changes_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    change = ScheduleChange(months=25, option=InstalmentOption.AUTO)
    contract_pk, request_id = await _schedule_change(setup, 24, change)
    before = await instalments_of(setup.db, contract_pk)

    async def broken(*_args: Any) -> None:
        raise RuntimeError("the contract cannot be written")  # after the instalments were

    monkeypatch.setattr(request_processing, "_write_contract_terms", broken)
    body = await setup.gql(DECIDE, r=request_id, d="ACCEPTED", a="Zmieniamy.")
    assert body["errors"][0]["message"] == "Wystąpił nieoczekiwany błąd."
    after = await instalments_of(setup.db, contract_pk)
    assert [(_amounts(r), r.due_date, r.updated_at) for r in after] == [
        (_amounts(r), r.due_date, r.updated_at) for r in before
    ]
    assert (await contract_of(setup.db, contract_pk)).term_months == 24
    stored = await stored_request(setup.db, request_id)
    assert (stored.stage, stored.decision, stored.answer) == (RequestStage.SUBMITTED, None, None)
    assert len(await history_of(setup.db, request_id)) == 1
    assert await mails_about(setup.db, stored.number) == []


async def test_a_payment_day_decision_failing_half_way_changes_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_pk = await add_contract(setup.db, setup.client_pk)
    before = await instalments_of(setup.db, contract_pk)
    request_id = await add_request(
        setup.db,
        setup.client_pk,
        RequestType.PAYMENT_DAY_CHANGE,
        contract_pk=contract_pk,
        details={"day": 20 if before[0].due_date.day != 20 else 25},
    )

    async def broken(*_args: Any, **_values: Any) -> None:
        raise RuntimeError("the contract cannot be written")

    monkeypatch.setattr(request_processing, "_update_contract", broken)
    body = await setup.gql(DECIDE, r=request_id, d="ACCEPTED", a="Zmieniamy.")
    assert body["errors"][0]["message"] == "Wystąpił nieoczekiwany błąd."
    after = await instalments_of(setup.db, contract_pk)
    assert [r.due_date for r in after] == [r.due_date for r in before]
    assert (await stored_request(setup.db, request_id)).decision is None


async def _company(db: Database, pk: int) -> tuple[str, ...]:
    async with AsyncSession(db.engine) as session:
        row = await session.get(Client, pk)
        assert row is not None
        return (row.email, row.phone, row.street, row.postal_code, row.city)


async def test_an_accepted_client_data_change_updates_the_company(setup: Setup) -> None:
    email, phone, street, postal_code, city = await _company(setup.db, setup.client_pk)
    details = {"email": "biuro@nowa-firma.pl", "city": "Gdańsk", "postalCode": "80-001"}
    request_id = await add_request(
        setup.db, setup.client_pk, RequestType.CLIENT_DATA_CHANGE, details=details
    )
    await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Dane zmienione.")
    assert await _company(setup.db, setup.client_pk) == (
        "biuro@nowa-firma.pl", phone, street, "80-001", "Gdańsk"
    )  # fmt: skip
    body = await setup.gql(
        "query($id: ID!) { client(id: $id) { email address { city } } }",
        "anna",
        id=to_global_id("Client", setup.client_pk),
    )
    assert body["data"]["client"]["address"]["city"] == "Gdańsk"
    # Put the company back for the other tests.
    async with setup.db.write() as session:
        await session.execute(
            update(Client)
            .where(Client.id == setup.client_pk)  # type: ignore[arg-type]
            .values(email=email, postal_code=postal_code, city=city)
        )


async def test_an_accepted_registered_office_change_moves_the_company(setup: Setup) -> None:
    original = await _company(setup.db, setup.client_pk)
    details = {"street": "ul. Długa 1", "postalCode": "00-950", "city": "Warszawa",
               "email": "ignored@firma.pl"}  # fmt: skip
    request_id = await add_request(
        setup.db, setup.client_pk, RequestType.REGISTERED_OFFICE_CHANGE, details=details
    )
    await setup.ok(DECIDE, r=request_id, d="ACCEPTED", a="Siedziba zmieniona.")
    changed = await _company(setup.db, setup.client_pk)
    assert changed == (original[0], original[1], "ul. Długa 1", "00-950", "Warszawa")
    async with setup.db.write() as session:
        await session.execute(
            update(Client)
            .where(Client.id == setup.client_pk)  # type: ignore[arg-type]
            .values(street=original[2], postal_code=original[3], city=original[4])
        )


async def test_a_rejected_client_data_change_changes_nothing(setup: Setup) -> None:
    original = await _company(setup.db, setup.client_pk)
    request_id = await add_request(
        setup.db, setup.client_pk, RequestType.CLIENT_DATA_CHANGE, details={"city": "Kraków"}
    )
    await setup.ok(DECIDE, r=request_id, d="REJECTED", a="Brak dokumentów.")
    assert await _company(setup.db, setup.client_pk) == original


async def test_a_client_data_decision_failing_after_its_write_leaves_the_company(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = await _company(setup.db, setup.client_pk)
    request_id = await add_request(
        setup.db, setup.client_pk, RequestType.CLIENT_DATA_CHANGE, details={"city": "Kraków"}
    )

    def broken(*_args: Any) -> None:
        raise RuntimeError("the outbox cannot be written")  # after the company's update

    monkeypatch.setattr(request_processing, "_notify_decision", broken)
    body = await setup.gql(DECIDE, r=request_id, d="ACCEPTED", a="Dane zmienione.")
    assert body["errors"][0]["message"] == "Wystąpił nieoczekiwany błąd."
    assert await _company(setup.db, setup.client_pk) == original
    assert (await stored_request(setup.db, request_id)).decision is None
