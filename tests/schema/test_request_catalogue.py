"""`requestCatalogue`: the guide's requests as forms (REQ-1), Polish by default, English on ask."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.contract import Contract, Instalment
from resolvers.ids import from_global_id, to_global_id
from tests.conftest import Hub, count_statements
from tests.schema.helpers import client_ids, error_codes

CATALOGUE = """
query($contractId: ID) {
  requestCatalogue(contractId: $contractId) {
    categories { category label types { code label kinds { kind } } }
    types {
      code label
      kinds {
        kind label name
        form {
          fields { name label kind required options { value label } default min max }
          statements { id text }
          attachments { required kinds maxBytes limits { kind maxBytes } }
        }
      }
    }
  }
}
"""
ENGLISH = {"Accept-Language": "en"}


async def _catalogue(
    hub: Hub, contract_id: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = await hub.gql(CATALOGUE, {"contractId": contract_id}, as_="anna", headers=headers)
    assert "errors" not in body, body["errors"]
    return body["data"]["requestCatalogue"]  # type: ignore[no-any-return]


def _kinds(catalogue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {kind["kind"]: kind for entry in catalogue["types"] for kind in entry["kinds"]}


def _fields(kind: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in kind["form"]["fields"]}


async def _contract(hub: Hub, *, own: bool) -> Contract:
    """A contract of anna's first company, or of a company she is not in."""
    mine = {from_global_id(gid)[1] for gid in await client_ids(hub, "anna")}
    async with AsyncSession(hub.db.engine) as session:
        rows = (await session.execute(select(Contract).order_by(Contract.id))).scalars().all()
    return next(row for row in rows if (row.client_id in mine) is own)


async def test_catalogue_groups_kinds_by_category_and_type_as_the_guide(hub: Hub) -> None:
    catalogue = await _catalogue(hub)
    categories = {c["category"]: c for c in catalogue["categories"]}
    assert [c["label"] for c in catalogue["categories"]] == [
        "Przedmiot leasingu",
        "Zmiany w umowie",
        "Inna sprawa",
    ]
    schedule = next(t for t in categories["CONTRACT"]["types"] if t["code"] == "SCHEDULE_CHANGES")
    assert schedule["label"] == "Zmiana harmonogramu"
    assert [k["kind"] for k in schedule["kinds"]] == [
        "PAYMENT_DAY_CHANGE",
        "CONTRACT_VALUE_CHANGE",
        "SCHEDULE_CHANGE",
    ]
    leased_item = {k["kind"] for t in categories["LEASED_ITEM"]["types"] for k in t["kinds"]}
    assert leased_item == {"POLICY_DUPLICATE", "DRIVING_ABROAD_AUTHORISATION"}
    every = [kind for entry in catalogue["types"] for kind in entry["kinds"]]
    assert len(every) == len({kind["kind"] for kind in every}) == 10


async def test_payment_day_form_in_the_guides_words(hub: Hub) -> None:
    kind = _kinds(await _catalogue(hub))["PAYMENT_DAY_CHANGE"]
    assert kind["label"] == "Data płatności raty"
    fields = _fields(kind)
    assert list(fields) == ["contractId", "day", "reason", "reasonText", "attachmentIds", "contact"]
    day = fields["day"]
    assert (day["kind"], day["required"], day["default"]) == ("DAY_OF_MONTH", True, None)
    assert day["options"] == [
        {"value": "15", "label": "15."},
        {"value": "20", "label": "20."},
        {"value": "25", "label": "25."},
    ]
    assert {"value": "OTHER", "label": "Inne"} in fields["reason"]["options"]
    assert fields["reasonText"]["required"] is False
    assert fields["contact"]["kind"] == "CONTACT_PERSON"
    assert kind["form"]["attachments"] == {
        "required": False,
        "kinds": ["PDF", "DOC", "DOCX", "ZIP"],
        "maxBytes": 20 * 1024 * 1024,  # a ZIP's; the upload enforces each kind's own
        "limits": [
            {"kind": "PDF", "maxBytes": 10 * 1024 * 1024},
            {"kind": "DOC", "maxBytes": 10 * 1024 * 1024},
            {"kind": "DOCX", "maxBytes": 10 * 1024 * 1024},
            {"kind": "ZIP", "maxBytes": 20 * 1024 * 1024},
        ],
    }
    texts = [s["text"] for s in kind["form"]["statements"]]
    assert "Oświadczam, że dane podane we wniosku są zgodne z prawdą." in texts


async def test_contract_value_form_requires_an_attachment_and_offers_three_currencies(
    hub: Hub,
) -> None:
    kind = _kinds(await _catalogue(hub))["CONTRACT_VALUE_CHANGE"]
    assert kind["label"] == "Zmiana wartości umowy / doposażenie"
    fields = _fields(kind)
    assert [o["label"] for o in fields["change"]["options"]] == ["Nowa cena zakupu", "Doposażenie"]
    assert (fields["netAmount"]["kind"], fields["netAmount"]["min"]) == ("MONEY", "0.01")
    assert [o["value"] for o in fields["currency"]["options"]] == ["PLN", "EUR", "CHF"]
    assert kind["form"]["attachments"]["required"] is True
    assert fields["attachmentIds"]["required"] is True


async def test_schedule_change_form_offers_the_guides_three_instalment_options(hub: Hub) -> None:
    kind = _kinds(await _catalogue(hub))["SCHEDULE_CHANGE"]
    fields = _fields(kind)
    assert fields["residualPercent"]["kind"] == "PERCENT"
    assert fields["months"]["kind"] == "MONTHS"
    assert fields["instalments"]["options"] == [
        {"value": "KEEP", "label": "Utrzymać na obecnym poziomie"},
        {"value": "AUTO", "label": "Dopasować automatycznie"},
        {"value": "CUSTOM", "label": "Zmienić wysokość"},
    ]
    assert fields["amounts"]["kind"] == "INSTALMENT_AMOUNTS"
    assert fields["amounts"]["label"] == "Nowe wartości raty (netto)"


async def test_every_label_has_a_polish_and_an_english_text(hub: Hub) -> None:
    polish = _kinds(await _catalogue(hub))
    english = _kinds(await _catalogue(hub, headers=ENGLISH))
    assert english["PAYMENT_DAY_CHANGE"]["label"] == "Instalment payment date"
    assert _fields(english["SCHEDULE_CHANGE"])["instalments"]["options"][0]["label"] == (
        "Keep at the current level"
    )
    for kind, form in polish.items():
        assert form["label"] != english[kind]["label"]
        for pl_field, en_field in zip(
            form["form"]["fields"], english[kind]["form"]["fields"], strict=True
        ):
            assert pl_field["label"] != en_field["label"], (kind, en_field["label"])
            for pl_option, en_option in zip(pl_field["options"], en_field["options"], strict=True):
                assert pl_option["label"] != en_option["label"], (kind, en_option["label"])
        for pl_text, en_text in zip(
            form["form"]["statements"], english[kind]["form"]["statements"], strict=True
        ):
            assert pl_text["text"] != en_text["text"]


async def test_defaults_and_limits_follow_the_chosen_contract(hub: Hub) -> None:
    contract = await _contract(hub, own=True)
    contract_id = to_global_id("Contract", contract.id or 0)
    kinds = _kinds(await _catalogue(hub, contract_id))
    day = _fields(kinds["PAYMENT_DAY_CHANGE"])
    assert day["day"]["default"] == str(contract.payment_day)
    assert day["contractId"]["default"] == contract_id
    schedule = _fields(kinds["SCHEDULE_CHANGE"])
    assert schedule["months"]["default"] == str(contract.term_months)
    expected_percent = (contract.residual_value * 100 / contract.net_value).quantize(
        contract.residual_value
    )
    assert schedule["residualPercent"]["default"] == str(expected_percent)
    # Hand-set product limits: an operating lease lasts 24–84 months (art. 17b ust. 1 CIT).
    expected_min = "24" if contract.kind == "OPERATING_LEASE" else "12"
    assert (schedule["months"]["min"], schedule["months"]["max"]) == (expected_min, "84")
    assert _fields(kinds["CONTRACT_VALUE_CHANGE"])["currency"]["default"] == "PLN"
    # Forms without a contract keep their defaults empty.
    assert _fields(kinds["COOPERATION_OPINION"])["purpose"]["default"] is None


async def test_contract_of_another_company_answers_as_a_missing_one(hub: Hub) -> None:
    other = await _contract(hub, own=False)
    answers = []
    for pk in (other.id or 0, 10**9):
        body = await hub.gql(CATALOGUE, {"contractId": to_global_id("Contract", pk)}, as_="anna")
        assert body["data"] is None or body["data"].get("requestCatalogue") is None
        answers.append(
            (error_codes(body), [e.get("extensions", {}).get("field") for e in body["errors"]])
        )
    assert answers[0] == answers[1] == (["NOT_FOUND"], ["contractId"])


async def test_catalogue_with_a_contract_costs_the_same_statements_whatever_the_schedule(
    hub: Hub,
) -> None:
    async with AsyncSession(hub.db.engine) as session:
        sizes = dict(
            (
                await session.execute(
                    select(Instalment.contract_id, func.count()).group_by(Instalment.contract_id)
                )
            ).all()
        )
    mine = {from_global_id(gid)[1] for gid in await client_ids(hub, "anna")}
    async with AsyncSession(hub.db.engine) as session:
        own = (
            (await session.execute(select(Contract).where(Contract.client_id.in_(mine))))  # type: ignore[attr-defined]
            .scalars()
            .all()
        )
    small = min(own, key=lambda c: sizes.get(c.id, 0))
    large = max(own, key=lambda c: sizes.get(c.id, 0))
    counts = []
    for contract in (small, large):
        with count_statements(hub.db) as statements:
            await _catalogue(hub, to_global_id("Contract", contract.id or 0))
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 2, counts


async def test_simulation_of_another_companys_contract_answers_as_a_missing_one(hub: Hub) -> None:
    other = await _contract(hub, own=False)
    query = """
    query($id: ID!) {
      node(id: $id) { ... on Contract { scheduleSimulation(paymentDay: 20) { errors { code } } } }
    }
    """
    body = await hub.gql(query, {"id": to_global_id("Contract", other.id or 0)}, as_="anna")
    assert body["data"]["node"] is None
    assert error_codes(body) == ["NOT_FOUND"]
