"""POST /graphql over HTTP: malformed bodies, size limits, media types, and no plain-text 500."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

import hub.app
from hub.app import create_app
from hub.db import Database
from hub.settings import Settings
from tests.conftest import DatabaseFactory

GRAPHQL_RESPONSE = "application/graphql-response+json"


def settings_with(url: str, **env: Any) -> Settings:
    return Settings(**{"LEASEHUB_ENV": "test", "DATABASE_URL": url, **env})


@pytest.fixture(scope="module")
async def database(databases: DatabaseFactory) -> AsyncIterator[tuple[str, Database]]:
    """A migrated, empty database: nothing here reads data."""
    url = await databases.create()
    db = Database.from_settings(settings_with(url))
    yield url, db
    await db.dispose()


def client_for(database: tuple[str, Database], **env: Any) -> httpx.AsyncClient:
    url, db = database
    app = create_app(settings_with(url, **env), db=db)
    # The app's own answer to an unhandled exception is under test, not httpx's re-raise.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://hub.test")


@pytest.fixture
async def client(database: tuple[str, Database]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(database) as http:
        yield http


def assert_coded(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors[0]["message"] and errors[0]["extensions"]["code"] == code


def post(http: httpx.AsyncClient, body: bytes, **headers: str) -> Any:
    return http.post(
        "/graphql", content=body, headers={"content-type": "application/json", **headers}
    )


NOT_AN_OBJECT = [b'"x"', b"null", b"123", b"true", b'["x"]', b'{ "not a JSON', b""]


@pytest.mark.parametrize("body", NOT_AN_OBJECT)
async def test_a_body_that_is_not_a_json_object_is_a_coded_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    assert_coded(await post(client, body), 400, "BAD_REQUEST")


async def test_variables_nested_past_the_limit_are_a_coded_400(client: httpx.AsyncClient) -> None:
    deep = b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    assert_coded(await post(client, deep), 400, "BAD_REQUEST")
    eleven: Any = 1
    for _ in range(11):  # one level past the default limit of 10
        eleven = {"x": eleven}
    body = orjson.dumps({"query": "{ __typename }", "variables": {"v": eleven}})
    assert_coded(await post(client, body), 400, "BAD_REQUEST")


UNSTORABLE = [
    # a NUL in a variable, deep in an input (PostgreSQL's text cannot hold it)
    (b'{"query": "mutation($i: X) { f }", "variables": {"i": {"c": {"name": "A\\u0000"}}}}',
     "variables.i.c.name"),
    (b'{"query": "{ __typename }", "variables": {"v": ["ok", "\\u0000"]}}', "variables.v.1"),
    # a NUL written as an escape inside the document's string literal
    (b'{"query": "{ node(id: \\"x\\\\u0000\\") { id } }"}', "query"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "where"), UNSTORABLE)
async def test_text_no_column_can_store_is_a_coded_400_naming_where_it_is(
    client: httpx.AsyncClient, body: bytes, where: str
) -> None:
    answer = await post(client, body)
    assert_coded(answer, 400, "INVALID_CHARACTERS")
    assert where in answer.json()["errors"][0]["message"]


async def test_an_unpaired_surrogate_is_refused_by_the_json_parser(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"query": "{ __typename }", "variables": {"v": "\\ud800"}}'
    assert_coded(await post(client, body), 400, "BAD_REQUEST")


async def test_paired_surrogates_and_a_written_backslash_u_pass(client: httpx.AsyncClient) -> None:
    body = '{"query": "{ __typename }", "variables": {"v": "\\ud83d\\ude00 \\\\u0000"}}'
    assert orjson.loads(body)["variables"]["v"] == "\U0001f600 \\u0000"
    answer = await post(client, body.encode())
    assert answer.status_code == 200, answer.text


async def test_too_many_variables_are_a_coded_400(client: httpx.AsyncClient) -> None:
    variables = {f"v{i}": i for i in range(101)}
    body = orjson.dumps({"query": "{ __typename }", "variables": variables})
    assert_coded(await post(client, body), 400, "BAD_REQUEST")


async def test_a_body_over_the_size_limit_is_a_413(client: httpx.AsyncClient) -> None:
    padding = "x" * 1_048_576
    body = orjson.dumps({"query": f"{{ __typename }} # {padding}"})
    assert_coded(await post(client, body), 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length to trust: counted as it comes
        for _ in range(20):
            yield b" " * 65_536

    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_coded(response, 413, "PAYLOAD_TOO_LARGE")


async def test_the_size_limits_are_settings(database: tuple[str, Database]) -> None:
    limits = {
        "LEASEHUB_MAX_BODY_BYTES": 2048,
        "LEASEHUB_MAX_VARIABLES": 1,
        "LEASEHUB_MAX_VARIABLE_DEPTH": 1,
    }
    async with client_for(database, **limits) as http:
        big = orjson.dumps({"query": "{ __typename }" + " " * 2048})
        assert_coded(await post(http, big), 413, "PAYLOAD_TOO_LARGE")
        two = orjson.dumps({"query": "{ __typename }", "variables": {"a": 1, "b": 2}})
        assert_coded(await post(http, two), 400, "BAD_REQUEST")
        nested = orjson.dumps({"query": "{ __typename }", "variables": {"a": [[1]]}})
        assert_coded(await post(http, nested), 400, "BAD_REQUEST")
        fine = orjson.dumps({"query": "{ __typename }", "variables": {"a": [1]}})
        assert (await post(http, fine)).json()["data"] == {"__typename": "Query"}


@pytest.fixture
def failing_authentication(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom: SELECT token_hash FROM auth_tokens")

    monkeypatch.setattr(hub.app, "authenticate", broken)
    yield


@pytest.mark.usefixtures("failing_authentication")
async def test_an_unhandled_exception_answers_a_coded_json_500_and_is_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await post(client, b'{"query": "{ __typename }"}')
    assert_coded(response, 500, "INTERNAL_SERVER_ERROR")
    assert "boom" not in response.text
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


async def test_graphql_response_media_type_gets_the_specs_status_codes(
    client: httpx.AsyncClient,
) -> None:
    accept = {"accept": GRAPHQL_RESPONSE}
    cases = {
        b'{"query": "{ __typename }"}': (200, None),
        b'{"query": "{"}': (400, "GRAPHQL_PARSE_FAILED"),
        b'{"query": "{ nope }"}': (400, "GRAPHQL_VALIDATION_FAILED"),
        b'{"query": "query($n: Int!) { __typename n: __typename }", "variables": {}}': (
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        b'{"query": "query($f: InvoiceFilterInput) { client(id: \\"x\\") '
        b'{ invoices(filter: $f) { totalCount } } }", "variables": {"f": {"no": 1}}}': (
            400,
            "BAD_USER_INPUT",
        ),
    }
    for body, (status, code) in cases.items():
        response = await post(client, body, **accept)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        answer = response.json()
        if code is not None:
            assert "data" not in answer and answer["errors"][0]["extensions"]["code"] == code


async def test_application_json_keeps_200_and_data_for_refused_requests(
    client: httpx.AsyncClient,
) -> None:
    for accept in ("application/json", "*/*", None):
        headers = {"accept": accept} if accept else {}
        response = await post(client, b'{"query": "{"}', **headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["data"] is None
        assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_http_refusals_are_graphql_error_bodies(client: httpx.AsyncClient) -> None:
    no_type = await client.post("/graphql", content=b'{"query": "{ __typename }"}')
    assert_coded(no_type, 400, "BAD_REQUEST")
    missing_query = await post(client, b'{"qeury": "{ __typename }"}')
    assert_coded(missing_query, 400, "BAD_REQUEST")
    bad_name = await post(client, b'{"query": "{ __typename }", "operationName": 0}')
    assert_coded(bad_name, 400, "BAD_REQUEST")
    by_get = await client.get("/graphql", params={"query": "{ __typename }"})
    assert_coded(by_get, 400, "BAD_REQUEST")


async def test_unknown_paths_and_methods_are_coded_json_not_plain_text(
    client: httpx.AsyncClient,
) -> None:
    assert_coded(await client.get("/nope"), 404, "NOT_FOUND")
    wrong_method = await client.put("/graphql", content=b"{}")
    assert_coded(wrong_method, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in wrong_method.headers["allow"]
    assert_coded(await client.post("/health"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.usefixtures("failing_authentication")
async def test_the_last_resort_500_speaks_the_readers_language(client: httpx.AsyncClient) -> None:
    body = b'{"query": "{ __typename }"}'
    polish = await post(client, body)
    english = await client.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "accept-language": "en"},
    )
    assert polish.json()["errors"][0]["message"] == "Wystąpił nieoczekiwany błąd."
    assert english.json()["errors"][0]["message"] == "Unexpected error."


async def test_our_http_refusals_speak_the_readers_language(client: httpx.AsyncClient) -> None:
    polish = await post(client, b'"x"')
    english = await post(client, b'"x"', **{"accept-language": "en"})
    assert polish.json()["errors"][0]["message"] == "Zapytanie musi być obiektem JSON."
    assert english.json()["errors"][0]["message"] == "The request must be a JSON object."
