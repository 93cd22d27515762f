"""`requestFile`: every kind filed through its form, each rule's code, idempotency, tenancy,
scopes, attachments used once and the simulation stored with a schedule change."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.demo import (
    DEMO_MAIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_STAFF_EMAIL,
    DEMO_SUB_EMAIL,
    DemoSpec,
    load_demo,
)
from models.attachment import Attachment, AttachmentKind, AttachmentStatus
from models.contract import Contract, ContractStatus
from models.outbox import Channel
from models.request import Request, RequestType, response_due_on
from resolvers.ids import from_global_id, to_global_id
from resolvers.request_catalogue import FORMS
from schema.request_file import ContractValueChangeKind, PaymentDayReason
from tests.auth.helpers import TOKEN_CREATE, last_message
from tests.conftest import LOGIN, DatabaseFactory, Hub, open_hub
from tests.hub.test_uploads import pdf_file
from tests.schema.contracts import today
from tests.schema.helpers import error_codes

FILE = """mutation($input: RequestFileInput!) { requestFile(input: $input) {
  request { id number stage type dueOn details contactName contactEmail contactPhone
    contract { id }
    simulation { paymentDay termMonths residualValue { amount }
      instalments { number dueDate capital { amount } interest { amount } net { amount }
        vat { amount } gross { amount } remainingCapital { amount } }
      difference { instalment { amount } totalInterest { amount } totalToPay { amount } } }
    history { stage fromClient author attachments { id used } } }
  errors { field code message } } }"""
SIMULATE = """query($id: ID!, $day: Int, $change: ScheduleChangeSimulationInput) {
  node(id: $id) { ... on Contract { scheduleSimulation(paymentDay: $day, scheduleChange: $change) {
    errors { code }
    simulation { paymentDay termMonths residualValue { amount }
      instalments { number dueDate capital { amount } interest { amount } net { amount }
        vat { amount } gross { amount } remainingCapital { amount } }
      difference { instalment { amount } totalInterest { amount } totalToPay { amount } } }
  } } } }"""
CONTRACTS = """query($c: ID!, $s: [ContractStatus!]) { client(id: $c) {
  contracts(first: 100, status: $s) { edges { node { id paymentDay termMonths } } } } }"""
DECLARE = """mutation($c: ID!, $n: String!, $s: Int!) {
  attachmentUploadCreate(input: {clientId: $c, fileName: $n, contentType: "application/pdf",
                                 size: $s, purpose: REQUEST}) {
    uploadUrl attachment { id } errors { code } } }"""
VIEWER = "{ viewer { clients { client { id number } } } }"

_keys = itertools.count(1)


@dataclass
class Env:
    hub: Hub
    client: str  # the main account's company 100001
    contract: str  # active, with unpaid future instalments and room for a longer period
    payment_day: int
    term_months: int
    ended_contract: str | None
    other_client: str  # a company the main account has no rights in
    other_contract: str


def new_key() -> str:
    return f"test-{next(_keys)}-{datetime.now(UTC).timestamp()}"


async def _login(hub: Hub, who: str, email: str) -> None:
    body = await hub.gql(LOGIN, {"login": email, "password": DEMO_PASSWORD})
    hub.tokens[who] = body["data"]["login"]["token"]


async def _contracts(hub: Hub, client: str, *statuses: str) -> list[dict[str, Any]]:
    body = await hub.gql(CONTRACTS, {"c": client, "s": list(statuses)}, as_="anna")
    return [edge["node"] for edge in body["data"]["client"]["contracts"]["edges"]]


async def _changeable(hub: Hub, contracts: list[dict[str, Any]]) -> dict[str, Any]:
    """An active contract both a payment-day change and a longer period can be simulated on."""
    for contract in contracts:
        day = next(d for d in (15, 20, 25) if d != contract["paymentDay"])
        change = {"months": contract["termMonths"] + 6, "instalments": "AUTO"}
        results = [
            await hub.gql(SIMULATE, {"id": contract["id"], **variables}, as_="anna")
            for variables in ({"day": day}, {"change": change})
        ]
        if all(r["data"]["node"]["scheduleSimulation"]["errors"] == [] for r in results):
            return contract
    raise AssertionError("the demo has no contract to change")


async def _other_company(hub: Hub, own: set[int]) -> tuple[str, str]:
    async with hub.db.read() as session:
        query = select(Contract).where(Contract.client_id.not_in(own))  # type: ignore[attr-defined]
        contract = (await session.execute(query)).scalars().first()
    assert contract is not None
    return to_global_id("Client", contract.client_id), to_global_id("Contract", contract.id or 0)


async def open_env(databases: DatabaseFactory, folder: str) -> tuple[Env, Any]:
    hub, db = await open_hub(await databases.create(), LEASEHUB_ATTACHMENT_DIR=folder)
    await load_demo(db.engine, DemoSpec(clients=3, seed=11))
    for who, email in (
        ("anna", DEMO_MAIN_EMAIL),
        ("jan", DEMO_SUB_EMAIL),
        ("staff", DEMO_STAFF_EMAIL),
    ):
        await _login(hub, who, email)
    clients = (await hub.gql(VIEWER, as_="anna"))["data"]["viewer"]["clients"]
    client = next(c["client"]["id"] for c in clients if c["client"]["number"] == "100001")
    contract = await _changeable(hub, await _contracts(hub, client, "ACTIVE"))
    ended = await _contracts(hub, client, "ENDED", "TERMINATED")
    own = {from_global_id(c["client"]["id"])[1] for c in clients}
    other_client, other_contract = await _other_company(hub, own)
    env = Env(
        hub=hub,
        client=client,
        contract=contract["id"],
        payment_day=contract["paymentDay"],
        term_months=contract["termMonths"],
        ended_contract=ended[0]["id"] if ended else None,
        other_client=other_client,
        other_contract=other_contract,
    )
    return env, db


@pytest.fixture(scope="module")
async def env(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    made, db = await open_env(databases, str(tmp_path_factory.mktemp("files") / "store"))
    yield made
    await made.hub.close()
    await db.dispose()


async def uploaded(env: Env, *, client: str | None = None) -> str:
    """An uploaded PDF of `client` (the main account's company by default), ready to use."""
    content = pdf_file()
    body = await env.hub.gql(
        DECLARE, {"c": client or env.client, "n": "aneks.pdf", "s": len(content)}, as_="anna"
    )
    payload = body["data"]["attachmentUploadCreate"]
    assert payload["errors"] == [], payload
    response = await env.hub.client.put(payload["uploadUrl"], content=content)
    assert response.status_code == 200, response.text
    return payload["attachment"]["id"]  # type: ignore[no-any-return]


def other_day(env: Env) -> int:
    return next(day for day in (15, 20, 25) if day != env.payment_day)


def valid_part(env: Env, kind: RequestType) -> dict[str, Any]:
    """A part each form accepts."""
    return {
        RequestType.PAYMENT_DAY_CHANGE: {"day": other_day(env), "reason": "CASH_FLOW"},
        RequestType.CONTRACT_VALUE_CHANGE: {
            "change": "ADDITIONAL_EQUIPMENT",
            "netAmount": "12500.50",
            "currency": "PLN",
        },
        RequestType.SCHEDULE_CHANGE: {"months": env.term_months + 6, "instalments": "AUTO"},
        RequestType.COOPERATION_OPINION: {"purpose": "Wniosek o kredyt obrotowy"},
        RequestType.EARLY_TERMINATION_OFFER: {"comment": "Sprzedaż przedmiotu leasingu"},
        RequestType.POLICY_DUPLICATE: {"policyNumber": "POL/2026/123"},
        RequestType.DRIVING_ABROAD_AUTHORISATION: {
            "driverName": "Jan Nowak",
            "countries": "Niemcy, Czechy",
            "periodMonths": 3,
        },
        RequestType.SCHEDULE_CHANGE_OFFER: {"comment": "Niższa rata w sezonie zimowym"},
        RequestType.REGISTERED_OFFICE_CHANGE: {
            "street": "ul. Prosta 12",
            "postalCode": "00-850",
            "city": "Warszawa",
        },
        RequestType.CLIENT_DATA_CHANGE: {"phone": "+48 22 123 45 67"},
    }[kind]


def field_of(kind: RequestType) -> str:
    head, *rest = kind.value.lower().split("_")
    return head + "".join(word.title() for word in rest)


async def filing(
    env: Env,
    kind: RequestType,
    part: dict[str, Any] | None = None,
    *,
    attach: bool | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A filing input that passes, but for what the caller overrides."""
    form = FORMS[kind]
    needs_file = form.attachments.required if attach is None else attach
    value: dict[str, Any] = {
        "clientId": env.client,
        "idempotencyKey": new_key(),
        "contact": {"name": "Anna Kowalska", "phone": "+48 601 234 567", "email": "anna@x.pl"},
        "acceptedStatements": [statement.id for statement in form.statements],
        "attachmentIds": [await uploaded(env)] if needs_file else [],
        field_of(kind): valid_part(env, kind) if part is None else part,
    }
    if form.needs_contract:
        value["contractId"] = env.contract
    value.update(overrides)
    return value


async def file(env: Env, value: dict[str, Any], *, as_: str = "anna") -> dict[str, Any]:
    body = await env.hub.gql(FILE, {"input": value}, as_=as_)
    assert "errors" not in body, body["errors"]
    return body["data"]["requestFile"]  # type: ignore[no-any-return]


async def request_count(env: Env) -> int:
    async with env.hub.db.read() as session:
        return int((await session.execute(select(func.count()).select_from(Request))).scalar_one())


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["errors"]]


# ---- every kind ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(RequestType))
async def test_every_kind_is_filed_through_its_form(env: Env, kind: RequestType) -> None:
    value = await filing(env, kind)
    payload = await file(env, value)
    assert payload["errors"] == []
    request = payload["request"]
    assert request["stage"] == "SUBMITTED" and request["type"] == kind.value
    assert re.fullmatch(rf"WN/{today().year}/\d{{6}}", request["number"])
    assert request["dueOn"] == response_due_on(kind, today()).isoformat()
    assert request["contactPhone"] == "+48 601 234 567"
    assert request["details"] == {
        k: v for k, v in valid_part(env, kind).items() if v is not None
    } | ({"instalments": "AUTO"} if kind is RequestType.SCHEDULE_CHANGE else {})
    assert (request["contract"] is not None) == FORMS[kind].needs_contract
    [entry] = request["history"]
    assert entry["stage"] == "SUBMITTED" and entry["fromClient"] is True
    assert entry["author"] == "Anna Kowalska"
    assert len(entry["attachments"]) == len(value["attachmentIds"])
    assert all(attachment["used"] for attachment in entry["attachments"])
    mail = await last_message(env.hub, "anna@x.pl", Channel.EMAIL)
    assert request["number"] in mail.subject and request["number"] in mail.body
    assert "Otrzymaliśmy wniosek" in mail.body  # Polish, the portals' language


async def test_enums_of_the_input_are_the_forms_options() -> None:
    fields = {f.name: f for f in FORMS[RequestType.PAYMENT_DAY_CHANGE].fields}
    assert [o.value for o in fields["reason"].options] == [r.value for r in PaymentDayReason]
    fields = {f.name: f for f in FORMS[RequestType.CONTRACT_VALUE_CHANGE].fields}
    assert [o.value for o in fields["change"].options] == [c.value for c in ContractValueChangeKind]


async def test_filing_without_a_kind_part_or_with_two_is_refused(env: Env) -> None:
    before = await request_count(env)
    none = await filing(env, RequestType.COOPERATION_OPINION)
    del none["cooperationOpinion"]
    two = await filing(env, RequestType.COOPERATION_OPINION)
    two["clientDataChange"] = valid_part(env, RequestType.CLIENT_DATA_CHANGE)
    for value in (none, two):
        payload = await file(env, value)
        assert payload["request"] is None
        assert codes(payload) == [(None, "ONE_KIND_REQUIRED")]
    assert await request_count(env) == before


# ---- each rule's code ---------------------------------------------------------------------

PDC, CVC, SC = (
    RequestType.PAYMENT_DAY_CHANGE,
    RequestType.CONTRACT_VALUE_CHANGE,
    RequestType.SCHEDULE_CHANGE,
)
RULES: list[tuple[RequestType, dict[str, Any], tuple[str | None, str]]] = [
    (PDC, {"day": 17}, ("day", "DAY_NOT_ALLOWED")),
    (PDC, {"reason": "OTHER"}, ("reasonText", "REASON_TEXT_REQUIRED")),
    (PDC, {"reason": "OTHER", "reasonText": "  "}, ("reasonText", "REASON_TEXT_REQUIRED")),
    (CVC, {"netAmount": "0"}, ("netAmount", "NOT_POSITIVE")),
    (CVC, {"netAmount": "-5.00"}, ("netAmount", "NOT_POSITIVE")),
    (CVC, {"netAmount": "100.125"}, ("netAmount", "TOO_MANY_DECIMALS")),
    (SC, {"residualPercent": "45"}, ("residualPercent", "RESIDUAL_OUT_OF_LIMITS")),
    (SC, {"months": 200}, ("months", "PERIOD_OUT_OF_LIMITS")),
    (SC, {"instalments": "CUSTOM"}, ("amounts", "AMOUNTS_REQUIRED")),
    (SC, {"months": None, "instalments": "AUTO"}, (None, "NOTHING_TO_CHANGE")),
    (
        RequestType.DRIVING_ABROAD_AUTHORISATION,
        {"periodMonths": 13},
        ("periodMonths", "OUT_OF_RANGE"),
    ),
    (RequestType.DRIVING_ABROAD_AUTHORISATION, {"driverName": " "}, ("driverName", "REQUIRED")),
    (
        RequestType.DRIVING_ABROAD_AUTHORISATION,
        {"countries": "Niemcy " * 200},
        ("countries", "TOO_LONG"),
    ),
    (RequestType.SCHEDULE_CHANGE_OFFER, {"comment": ""}, ("comment", "REQUIRED")),
    (RequestType.COOPERATION_OPINION, {"purpose": "\t"}, ("purpose", "REQUIRED")),
    (
        RequestType.REGISTERED_OFFICE_CHANGE,
        {"postalCode": "00850"},
        ("postalCode", "INVALID_POSTAL_CODE"),
    ),
    (
        RequestType.REGISTERED_OFFICE_CHANGE,
        {"street": "ul. Długa " * 21},  # the company's street holds 200 characters
        ("street", "TOO_LONG"),
    ),
    (
        RequestType.CLIENT_DATA_CHANGE,
        {"street": "ul. Nowa 1", "postalCode": "00-850", "city": "Ł" * 101},
        ("city", "TOO_LONG"),
    ),
    (RequestType.CLIENT_DATA_CHANGE, {"phone": None}, (None, "NOTHING_TO_CHANGE")),
    (RequestType.CLIENT_DATA_CHANGE, {"email": "biuro(at)firma.pl"}, ("email", "INVALID_EMAIL")),
    (RequestType.CLIENT_DATA_CHANGE, {"phone": "12 34"}, ("phone", "INVALID_PHONE")),
    (
        RequestType.CLIENT_DATA_CHANGE,
        {"street": "ul. Nowa 1", "city": "Kraków"},
        ("postalCode", "REQUIRED"),
    ),
]


@pytest.mark.parametrize(
    ("kind", "change", "expected"), RULES, ids=[f"{k.value}-{e[1]}" for k, _c, e in RULES]
)
async def test_each_rule_of_a_kind_is_refused_with_its_code(
    env: Env, kind: RequestType, change: dict[str, Any], expected: tuple[str | None, str]
) -> None:
    before = await request_count(env)
    part = {**valid_part(env, kind), **change}
    payload = await file(env, await filing(env, kind, part))
    assert payload["request"] is None
    assert codes(payload) == [expected]
    assert await request_count(env) == before


async def test_payment_day_change_to_the_current_day_is_refused(env: Env) -> None:
    part = {"day": env.payment_day, "reason": "CASH_FLOW"}
    payload = await file(env, await filing(env, PDC, part))
    assert codes(payload) == [("day", "DAY_UNCHANGED")]


@pytest.mark.parametrize("kind", [CVC, RequestType.REGISTERED_OFFICE_CHANGE])
async def test_kind_whose_form_needs_a_document_is_refused_without_one(
    env: Env, kind: RequestType
) -> None:
    payload = await file(env, await filing(env, kind, attach=False))
    assert codes(payload) == [("attachmentIds", "ATTACHMENT_REQUIRED")]


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"name": " "}, ("contact.name", "REQUIRED")),
        ({"email": "anna.x.pl"}, ("contact.email", "INVALID_EMAIL")),
        ({"phone": "601 234"}, ("contact.phone", "INVALID_PHONE")),
        ({"phone": "+48 601 234 56"}, ("contact.phone", "INVALID_PHONE")),
    ],
)
async def test_contact_person_is_validated(
    env: Env, contact: dict[str, str], expected: tuple[str, str]
) -> None:
    value = await filing(env, RequestType.COOPERATION_OPINION)
    value["contact"] = {**value["contact"], **contact}
    assert codes(await file(env, value)) == [expected]


@pytest.mark.parametrize(
    "phone", ["601 234 567", "+48 601-234-567", "0048601234567", "+49 30 1234567"]
)
async def test_polish_and_international_phones_are_accepted(env: Env, phone: str) -> None:
    value = await filing(env, RequestType.COOPERATION_OPINION)
    value["contact"] = {**value["contact"], "phone": phone}
    assert (await file(env, value))["errors"] == []


@pytest.mark.parametrize(
    ("statements", "code"),
    [
        (["TRUTHFUL"], "STATEMENT_NOT_ACCEPTED"),
        (["TRUTHFUL", "PROCESSING", "X"], "UNKNOWN_STATEMENT"),
    ],
)
async def test_statements_must_be_exactly_the_forms(
    env: Env, statements: list[str], code: str
) -> None:
    value = await filing(env, RequestType.COOPERATION_OPINION, acceptedStatements=statements)
    assert codes(await file(env, value)) == [("acceptedStatements", code)]


@pytest.mark.parametrize("key", ["", "x" * 65, "klucz-żółty", "a\nb"])
async def test_idempotency_key_must_be_printable_ascii_of_at_most_64(env: Env, key: str) -> None:
    value = await filing(env, RequestType.COOPERATION_OPINION, idempotencyKey=key)
    assert codes(await file(env, value)) == [("idempotencyKey", "INVALID_IDEMPOTENCY_KEY")]


async def test_contract_is_refused_where_the_form_has_none_and_required_where_it_has(
    env: Env,
) -> None:
    value = await filing(env, RequestType.COOPERATION_OPINION, contractId=env.contract)
    assert codes(await file(env, value)) == [("contractId", "CONTRACT_NOT_ALLOWED")]
    value = await filing(env, PDC)
    del value["contractId"]
    assert codes(await file(env, value)) == [("contractId", "REQUIRED")]


async def test_change_of_a_contract_no_longer_active_is_refused(env: Env) -> None:
    if env.ended_contract is None:
        async with env.hub.db.write() as session:
            contract = (
                (
                    await session.execute(
                        select(Contract).where(Contract.client_id == from_global_id(env.client)[1])
                    )
                )
                .scalars()
                .all()[-1]
            )
            contract.status = ContractStatus.ENDED
            env.ended_contract = to_global_id("Contract", contract.id or 0)
    for kind in (CVC, RequestType.EARLY_TERMINATION_OFFER):
        value = await filing(env, kind, contractId=env.ended_contract)
        assert codes(await file(env, value)) == [("contractId", "CONTRACT_NOT_ACTIVE")]


# ---- idempotency ----------------------------------------------------------------------------


async def test_same_key_answers_with_the_same_request_and_files_nothing_twice(env: Env) -> None:
    value = await filing(env, CVC)
    first = await file(env, value)
    before = await request_count(env)
    mail = await last_message(env.hub, "anna@x.pl", Channel.EMAIL)
    again = await file(env, value)  # its file is used by now: the key answers first
    assert again["errors"] == [] and again["request"]["id"] == first["request"]["id"]
    assert await request_count(env) == before
    assert (await last_message(env.hub, "anna@x.pl", Channel.EMAIL)).id == mail.id


async def test_twenty_parallel_filings_with_one_key_file_one_request(env: Env) -> None:
    value = await filing(env, RequestType.POLICY_DUPLICATE)
    before = await request_count(env)
    payloads = await asyncio.gather(*(file(env, value) for _ in range(20)))
    assert all(payload["errors"] == [] for payload in payloads), payloads
    assert len({payload["request"]["id"] for payload in payloads}) == 1
    assert await request_count(env) == before + 1
    async with env.hub.db.read() as session:
        rows = await session.execute(
            select(func.count()).where(Request.idempotency_key == value["idempotencyKey"])
        )
        assert rows.scalar_one() == 1


async def test_twenty_parallel_filings_with_their_own_keys_get_their_own_numbers(
    env: Env,
) -> None:
    values = [await filing(env, RequestType.COOPERATION_OPINION) for _ in range(20)]
    payloads = await asyncio.gather(*(file(env, value) for value in values))
    assert all(payload["errors"] == [] for payload in payloads), payloads
    assert len({payload["request"]["number"] for payload in payloads}) == 20


async def test_key_reused_for_another_kind_or_contract_is_refused(env: Env) -> None:
    value = await filing(env, RequestType.EARLY_TERMINATION_OFFER)
    assert (await file(env, value))["errors"] == []
    other_kind = await filing(env, RequestType.COOPERATION_OPINION)
    other_kind["idempotencyKey"] = value["idempotencyKey"]
    expected = [("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")]
    assert codes(await file(env, other_kind)) == expected


# ---- tenancy, scopes, files used once -------------------------------------------------------


async def test_another_companys_contract_is_answered_as_missing(env: Env) -> None:
    value = await filing(env, RequestType.POLICY_DUPLICATE, contractId=env.other_contract)
    assert codes(await file(env, value)) == [("contractId", "NOT_FOUND")]


async def test_another_companys_attachment_is_answered_as_missing(env: Env) -> None:
    async with env.hub.db.write() as session:
        foreign = Attachment(
            client_id=from_global_id(env.other_client)[1],
            filename="obcy.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
            kind=AttachmentKind.PDF,
            status=AttachmentStatus.READY,
        )
        session.add(foreign)
        await session.flush()
        foreign_id = to_global_id("Attachment", foreign.id or 0)
    before = await request_count(env)
    value = await filing(env, CVC, attachmentIds=[foreign_id])
    assert codes(await file(env, value)) == [("attachmentIds", "NOT_FOUND")]
    assert await request_count(env) == before


async def test_another_companys_client_is_answered_as_missing(env: Env) -> None:
    value = await filing(env, RequestType.COOPERATION_OPINION, clientId=env.other_client)
    body = await env.hub.gql(FILE, {"input": value}, as_="anna")
    assert error_codes(body) == ["NOT_FOUND"] and body["data"] is None


async def test_subaccount_without_requests_write_staff_and_read_only_tokens_are_refused(
    env: Env,
) -> None:
    value = await filing(env, RequestType.COOPERATION_OPINION)
    created = await env.hub.gql(TOKEN_CREATE, {"c": env.client, "s": None, "ro": True}, as_="anna")
    read_only = created["data"]["apiTokenCreate"]["token"]
    before = await request_count(env)
    for who in ("jan", "staff"):
        body = await env.hub.gql(FILE, {"input": value}, as_=who)
        assert error_codes(body) in (["FORBIDDEN"], ["NOT_FOUND"]), (who, body)
    body = await env.hub.gql(FILE, {"input": value}, token=read_only)
    assert error_codes(body) == ["FORBIDDEN"]
    assert await request_count(env) == before


async def test_jan_is_refused_for_want_of_the_scope_in_his_own_company(env: Env) -> None:
    clients = (await env.hub.gql(VIEWER, as_="jan"))["data"]["viewer"]["clients"]
    own = clients[0]["client"]["id"]
    value = await filing(env, RequestType.COOPERATION_OPINION, clientId=own)
    body = await env.hub.gql(FILE, {"input": value}, as_="jan")
    assert error_codes(body) == ["FORBIDDEN"]


async def test_two_filings_racing_for_one_attachment_one_wins(env: Env) -> None:
    attachment = await uploaded(env)
    values = [await filing(env, CVC, attachmentIds=[attachment]) for _ in range(2)]
    before = await request_count(env)
    payloads = await asyncio.gather(*(file(env, value) for value in values))
    assert sorted(codes(p) for p in payloads) == [[], [("attachmentIds", "ATTACHMENT_USED")]]
    assert await request_count(env) == before + 1


# ---- the stored simulation ------------------------------------------------------------------


@pytest.mark.parametrize("kind", [PDC, SC])
async def test_stored_simulation_is_the_what_if_schedule_of_the_same_change(
    env: Env, kind: RequestType
) -> None:
    part = valid_part(env, kind)
    if kind is PDC:
        variables: dict[str, Any] = {"day": part["day"]}
    else:
        variables = {"change": part}
    body = await env.hub.gql(SIMULATE, {"id": env.contract, **variables}, as_="anna")
    expected = body["data"]["node"]["scheduleSimulation"]["simulation"]
    payload = await file(env, await filing(env, kind))
    assert payload["errors"] == []
    assert payload["request"]["simulation"] == expected
    assert expected is not None and expected["instalments"]
