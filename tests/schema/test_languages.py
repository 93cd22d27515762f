"""Answers in Polish by default and in English with `Accept-Language: en`; codes never change.

Top-level errors, the scope catalogue and the request types, over real requests on both
databases. graphql-core's own texts about the query (validation) stay English: they are for
whoever wrote the query, and they are not in the catalogue.
"""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.ids import to_global_id
from tests.conftest import Hub
from tests.schema.helpers import client_ids, error_codes

EN = {"Accept-Language": "en"}
CLIENT = "query($id: ID!) { client(id: $id) { id name } }"
PAYMENTS = "query($id: ID!) { client(id: $id) { payments(first: 1) { nodes { id } } } }"
CATALOGUE = "query($s: String) { scopeCatalogue(search: $s) { scope group description } }"
REQUEST_TYPES = "{ requestTypes { type name description } }"


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["errors"]) == 1, body
    return body["errors"][0]  # type: ignore[no-any-return]


def besides_message(body: dict[str, Any]) -> dict[str, Any]:
    """The error's code, field, path and locations: all that must not change with language."""
    return {key: value for key, value in only_error(body).items() if key != "message"}


async def both(hub: Hub, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> tuple:
    """The same request without a language (Polish) and with `Accept-Language: en`."""
    polish = await hub.gql(query, variables, **kw)
    english = await hub.gql(query, variables, headers=EN, **kw)
    return polish, english


async def test_not_found_is_polish_by_default_and_english_on_request(hub: Hub) -> None:
    missing = {"id": to_global_id("Client", 999_999)}
    polish, english = await both(hub, CLIENT, missing, as_="anna")
    assert only_error(polish)["message"] == "Nie znaleziono."
    assert only_error(english)["message"] == "Not found."
    assert besides_message(polish) == besides_message(english)
    assert {"path", "locations"} <= besides_message(polish).keys()
    assert error_codes(polish) == ["NOT_FOUND"] and polish["data"] == english["data"]


async def test_forbidden_names_the_missing_permission_in_either_language(hub: Hub) -> None:
    """Jan's subaccount has no payments:read: the field's permission check refuses."""
    company = {"id": (await client_ids(hub, "jan"))[0]}
    polish, english = await both(hub, PAYMENTS, company, as_="jan")
    assert error_codes(polish) == error_codes(english) == ["FORBIDDEN"]
    assert only_error(polish)["message"] == "Do tego potrzebne jest uprawnienie PAYMENTS_READ."
    assert only_error(english)["message"] == "This needs the PAYMENTS_READ permission."
    staff_only = await both(hub, "{ admin { __typename } }", as_="anna")
    assert [only_error(body)["message"] for body in staff_only] == [
        "Tylko pracownicy LeaseHub mogą to zobaczyć.",
        "Only staff can see this.",
    ]


async def test_unauthenticated_in_either_language(hub: Hub) -> None:
    polish, english = await both(hub, CATALOGUE)
    assert error_codes(polish) == error_codes(english) == ["UNAUTHENTICATED"]
    assert only_error(polish)["message"] == "Zaloguj się, aby to zobaczyć."
    assert only_error(english)["message"] == "Sign in to see this."


async def test_a_cached_refusal_answers_each_request_in_its_own_language(hub: Hub) -> None:
    """Depth errors come out of the validation cache, shared by every request: translating
    one answer must not change the next one."""
    hop = "invoices { nodes { contract { "
    deep = "{ viewer { clients { client { contracts { nodes { " + hop * 4 + "number"
    deep += " } } }" * 4 + " } } } } } }"
    first_pl = await hub.gql(deep, as_="anna")
    english = await hub.gql(deep, as_="anna", headers=EN)
    again_pl = await hub.gql(deep, as_="anna")
    assert error_codes(first_pl) == error_codes(english) == ["QUERY_TOO_DEEP"]
    assert besides_message(first_pl) == besides_message(english) == besides_message(again_pl)
    assert only_error(first_pl)["message"] == only_error(again_pl)["message"]
    assert "przekracza dopuszczalną głębokość" in only_error(first_pl)["message"]
    assert "exceeds maximum operation depth of 12" in only_error(english)["message"]


async def test_graphql_core_validation_texts_stay_english(hub: Hub) -> None:
    polish, english = await both(hub, "{ viewer { nope } }", as_="anna")
    assert error_codes(polish) == error_codes(english) == ["GRAPHQL_VALIDATION_FAILED"]
    assert only_error(polish)["message"] == only_error(english)["message"]
    assert "Cannot query field 'nope'" in only_error(polish)["message"]


async def test_scope_catalogue_in_both_languages(hub: Hub) -> None:
    polish, english = await both(hub, CATALOGUE, as_="anna")
    pl = {e["scope"]: e for e in polish["data"]["scopeCatalogue"]}
    en = {e["scope"]: e for e in english["data"]["scopeCatalogue"]}
    assert list(pl) == list(en) and len(pl) == 15
    assert pl["INVOICES_READ"]["group"] == "Faktury i rozliczenia"
    assert pl["INVOICES_READ"]["description"] == "Podgląd faktur i ich statusu"
    assert en["INVOICES_READ"] == {
        "scope": "INVOICES_READ",
        "group": "Invoices and settlements",
        "description": "See invoices and their status",
    }
    assert all(pl[scope]["description"] != en[scope]["description"] for scope in pl)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("faktury", {"INVOICES_READ", "PAYMENTS_READ", "PAYMENTS_PAY"}),
        ("umowy", {"CONTRACTS_READ", "SCHEDULES_READ", "POLICIES_READ"}),
        ("płatności", {"PAYMENTS_READ", "PAYMENTS_PAY"}),
        ("platnosci", {"PAYMENTS_READ", "PAYMENTS_PAY"}),
        ("PŁATNOŚCI", {"PAYMENTS_READ", "PAYMENTS_PAY"}),
        ("invoices", {"INVOICES_READ", "PAYMENTS_READ", "PAYMENTS_PAY"}),
        ("subkont", {"SUBACCOUNTS_MANAGE"}),
        ("tyres:write", {"TYRES_WRITE"}),
    ],
)
async def test_scope_search_finds_either_languages_words(
    hub: Hub, search: str, expected: set[str]
) -> None:
    """Accent- and case-insensitive, and the same whichever language the answer is in."""
    polish, english = await both(hub, CATALOGUE, {"s": search}, as_="anna")
    for body in (polish, english):
        assert {e["scope"] for e in body["data"]["scopeCatalogue"]} == expected, search


async def test_request_types_in_both_languages(hub: Hub) -> None:
    polish, english = await both(hub, REQUEST_TYPES)
    pl = {e["type"]: e for e in polish["data"]["requestTypes"]}
    en = {e["type"]: e for e in english["data"]["requestTypes"]}
    assert list(pl) == list(en) and len(pl) == 10
    assert pl["PAYMENT_DAY_CHANGE"]["name"] == "Zmiana daty płatności raty"
    assert en["PAYMENT_DAY_CHANGE"]["name"] == "Change of the instalment due day"
    assert en["POLICY_DUPLICATE"]["description"] == "A duplicate of an insurance policy."
    assert pl["POLICY_DUPLICATE"]["description"] == "Duplikat polisy ubezpieczeniowej."
    master = "query($id: ID!) { client(id: $id) { masterDataChangeRequest { name } } }"
    company = {"id": (await client_ids(hub, "anna"))[0]}
    names = [
        b["data"]["client"]["masterDataChangeRequest"]["name"]
        for b in await both(hub, master, company, as_="anna")
    ]
    assert names == ["Zmiana danych klienta", "Change of client data"]
