"""No secret in a log line (issue 8, must-work 10): a failing statement's trace used to print
its bound parameters, session-token hashes among them."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from sqlalchemy import event

from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD
from tests.auth.helpers import fresh_ip
from tests.conftest import LOGIN, Hub

HASH = re.compile(r"[0-9a-f]{64}")


async def test_a_failing_statement_with_a_token_hash_logs_no_parameter(
    flows: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    hashes: list[str] = []

    def break_session_insert(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any
    ) -> tuple[str, Any]:
        """The new session's row fails in the database, with its token hash bound."""
        if statement.lstrip().lower().startswith("insert into auth_tokens"):
            hashes.extend(str(p) for p in parameters if HASH.fullmatch(str(p)))
            return statement + " NOT VALID SQL", parameters
        return statement, parameters

    engine = flows.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", break_session_insert, retval=True)
    try:
        with caplog.at_level(logging.DEBUG):
            body = await flows.gql(
                LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD}, ip=fresh_ip()
            )
    finally:
        event.remove(engine, "before_cursor_execute", break_session_insert)
    assert [e["message"] for e in body["errors"]] == ["Wystąpił nieoczekiwany błąd."]
    assert hashes, "the session insert did not run"
    formatter = logging.Formatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "unexpected error" in logged  # the failure itself is logged, with its trace
    assert "parameters hidden" in logged
    assert not any(token_hash in logged for token_hash in hashes)
