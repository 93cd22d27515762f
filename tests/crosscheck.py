"""The compiled execution path checked against graphql-core's generic one on every test query,
and the fast lane's answers against strawberry's view.

While the suite runs, `CompiledExecutor.crosscheck` is `compare`: each query the tests send is
answered by its plan, then executed again on graphql-core's generic path by a twin of the same
executor (same context, so the loaders' caches answer it without new statements), and the two
results must be the same bytes: data in response order, errors with message, locations, path,
extensions and the type of the original exception. A difference is recorded and fails the test
that sent the query (see the autouse fixture in conftest.py).

While the suite runs, `FastLane.crosscheck` is `compare_lane`: every answer the fast lane
(hub/lane.py) gives is made again by strawberry's view for the same request and context, from
the same execution result, and the two responses must have the same status, headers and body.
"""

from __future__ import annotations

import asyncio
import json
from copy import copy
from typing import Any

from graphql import ExecutionResult
from graphql.execution.executor import CollectedErrors
from graphql.pyutils import RefMap
from starlette.requests import Request
from starlette.responses import Response

from hub.lane import FastLane
from resolvers.context import Context, LaneVisit
from schema.execution import CompiledExecutor

MISMATCHES: list[str] = []
# Left-out columns of narrowed reads that something used (loaders/rows.py): the generic twin
# reads the same narrowed rows and fails alike, so the comparison alone would not see it.
UNREAD_USES: list[str] = []
UNANSWERED: list[Any] = []
CHECKED: list[int] = [0]
LANE_CHECKED: list[int] = [0]


def render(result: ExecutionResult) -> str:
    """The result as bytes would leave: JSON of data and errors, in their order."""
    errors = [
        {**error.formatted, "original": type(error.original_error).__name__}
        for error in result.errors or ()
    ]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


def _twin(executor: CompiledExecutor) -> CompiledExecutor:
    twin = copy(executor)
    twin.collected_errors = CollectedErrors()
    twin._relevant_sub_fields = {}
    twin._stream_usages = RefMap()
    return twin


def _compare(
    executor: CompiledExecutor, compiled: ExecutionResult, generic: ExecutionResult
) -> None:
    CHECKED[0] += 1
    ours, theirs = render(compiled), render(generic)
    if ours != theirs:
        from graphql import print_ast

        MISMATCHES.append(f"{print_ast(executor.operation)}\ncompiled: {ours}\ngeneric:  {theirs}")


async def _settled(executor: CompiledExecutor, compiled: Any, generic: Any) -> ExecutionResult:
    result = await compiled if executor.is_awaitable(compiled) else compiled
    if generic is None:
        generic = _twin(executor).execute_generic()
    if executor.is_awaitable(generic):
        try:
            generic = await generic
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # this request really is cancelled
                raise
            # graphql-core's gather cancels the siblings of a failed non-null item; a sibling
            # waiting on a dataloader future another branch shares cancels that future, and
            # the other branch dies of it. The compiled path does not (schema/together.py);
            # the reference has no answer to compare with. Counted in the session's summary.
            UNANSWERED.append(executor.operation)
            return result
    _compare(executor, result, generic)
    return result


def compare(executor: CompiledExecutor, compiled: Any) -> Any:
    if executor.is_awaitable(compiled):
        return _settled(executor, compiled, None)
    generic = _twin(executor).execute_generic()
    if not executor.is_awaitable(generic):
        _compare(executor, compiled, generic)
        return compiled
    return _settled(executor, compiled, generic)


async def compare_lane(
    lane: FastLane, request: Request, context: Context, result: ExecutionResult, answer: Response
) -> None:
    context.lane = LaneVisit(result=result)
    reference = await lane.view.run_strawberry(request, context)
    LANE_CHECKED[0] += 1
    ours = (answer.status_code, answer.headers.raw, bytes(answer.body))
    theirs = (reference.status_code, reference.headers.raw, bytes(reference.body))
    if ours != theirs:
        MISMATCHES.append(f"fast lane: {ours}\nstrawberry's view: {theirs}")
