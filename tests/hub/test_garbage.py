"""A query leaves no cyclic garbage: its objects go with their last reference, so the young
generation does not fill up and its collections do not pause the requests in flight."""

from __future__ import annotations

import gc

import orjson
import pytest

from hub.app import create_app
from schema.execution import CompiledExecutor
from tests.conftest import Hub
from tests.hub.test_asgi import call, headers_for
from tests.schema.helpers import client_ids

OURS = {"auth", "hub", "loaders", "models", "resolvers", "schema"}
SMALL = "query Small($id: ID!) { client(id: $id) { id number name nip regon } }"
DEEP = """query Deep($id: ID!) { client(id: $id) { contracts(first: 20) { totalCount nodes {
  number schedule { number dueDate gross { amount } settlementState }
  invoices(first: 12) { totalCount nodes { number status amountDue { amount } } } } } } }"""


@pytest.mark.parametrize("query", [SMALL, DEEP], ids=["small", "pages and counts"])
async def test_a_query_leaves_no_cyclic_garbage(hub: Hub, query: str) -> None:
    assert hub.settings is not None
    app = create_app(hub.settings, db=hub.db)
    body = orjson.dumps({"query": query, "variables": {"id": (await client_ids(hub, "anna"))[0]}})
    for _ in range(3):  # the token known, the document learnt, the statements prepared
        sent, raised = await call(app, body, headers_for(hub))
        assert raised is None and "errors" not in orjson.loads(sent[1]["body"])
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(5):
            sent, raised = await call(app, body, headers_for(hub))
            assert raised is None and sent[0]["status"] == 200
        gc.collect()
        ours = [kind for kind in map(type, gc.garbage) if kind.__module__.split(".")[0] in OURS]
        assert ours == []  # not one of the request's objects (libraries' own cycles aside)
        assert not any(isinstance(item, CompiledExecutor) for item in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
