"""The fast lane: a query the server validated and ran before runs again without strawberry's
view around it.

For every request strawberry's view and `Schema.execute` redo what the document already
settled: content-type parsing, ten extension objects and their four phases, the parser and
validation caches' lookups, the answer's assembly. For a small query that is most of the CPU
it costs. The lane keeps, per app, the documents of the queries strawberry's own path
validated and ran over HTTP (learnt from that path, never parsed or validated here), and runs
the next request with the same text itself: with the same limits (`check_request`), price
(`QueryCostLimiter.price_coerced`, from the executor's coerced variables), context
(`get_context`), executor (the schema's, with the arguments strawberry gives it) and answer
assembly (`create_response`).

Anything else goes strawberry's way:
* as it came: another method or content type, a body other than a JSON object of GraphQL's
  four fields, a stream asked for;
* with the context the lane made (so the viewer is not checked twice): a document not learnt
  yet, which strawberry's path runs and the lane then learns; a request the limits or the cost
  budget refuse, which strawberry's path refuses in its own words; an answer with errors, which
  strawberry's steps finish (masking, codes, translation) from the lane's result without
  running the query again; and an exception the lane's run raised, raised again where
  strawberry's path runs the query (`LeaseHubSchema._execute_operation`).

Documents that ask for introspection are never learnt: whether they may run depends on who
asks (`IntrospectionPolicy`); nor are texts over `LANE_TEXT_MAX`. The lane stays shut when the
schema has an extension (or a custom directive) it does not know to leave nothing to do on a
plain query. In the test suite every answer the lane gives is compared with strawberry's for
the same request, status, headers and body (tests/crosscheck.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from graphql import DocumentNode, ExecutionResult, MiddlewareManager
from starlette.requests import Request
from starlette.responses import Response
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.base import BaseSchema
from strawberry.types.unset import UNSET

from hub.http import Refusal
from resolvers.context import Context, LaneVisit
from schema.cost import QueryCostLimiter
from schema.errors import CodedMaskErrors, ErrorCodes, TranslatedErrors
from schema.limits import IntrospectionPolicy, asks_introspection
from schema.read_only import ReadOnlyTokens

if TYPE_CHECKING:
    from hub.app import LeaseHubGraphQL

logger = logging.getLogger("leasehub.lane")

LANE_SIZE = 512  # documents kept per app, as many as the parser and validation caches hold
# Longer texts are not kept: comments and string literals are not tokens, so a client could
# otherwise make the lane hold hundreds of megabytes of them.
LANE_TEXT_MAX = 32 * 1024
SUB_RESPONSE = "leasehub.sub_response"  # the scope key of the response the context was made with
# The extensions whose work on a validated query without errors is the price alone.
KNOWN_EXTENSIONS = (
    AddValidationRules,
    CodedMaskErrors,
    ErrorCodes,
    IntrospectionPolicy,
    MaxTokensLimiter,
    ParserCache,
    QueryCostLimiter,
    ReadOnlyTokens,
    TranslatedErrors,
    ValidationCache,
)
_FIELDS = frozenset(("query", "variables", "operationName", "extensions"))

Crosscheck = Callable[["FastLane", Request, Context, ExecutionResult, Response], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Call:
    """A request body in its plain form."""

    query: str
    variables: dict[str, Any] | None
    operation: str | None


@dataclass(frozen=True, slots=True)
class Learnt:
    document: DocumentNode
    operation: str | None  # the one strawberry chose: the first, when the request named none


def plain_call(body: bytes) -> Call | None:
    """The body as a Call, or None when it is anything else (strawberry's path answers)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or not data.keys() <= _FIELDS or data.get("extensions") is not None:
        return None
    query, variables = data.get("query"), data.get("variables")
    operation = data.get("operationName")
    if type(query) is not str or not isinstance(variables, dict | None):
        return None
    if not isinstance(operation, str | None):
        return None
    return Call(query, variables, operation)


def limiter_of(schema: BaseSchema) -> QueryCostLimiter | None:
    """The schema's cost limiter, when every extension is one the lane knows; else None."""
    if getattr(schema, "directives", None):  # strawberry adds an extension resolving them
        logger.info("fast lane off: the schema has custom directives")
        return None
    limiter = None
    for factory in getattr(schema, "extensions", ()):
        kind = getattr(factory, "func", factory)
        if kind not in KNOWN_EXTENSIONS:  # a subclass may do more
            logger.info("fast lane off: the schema has the extension %r", kind)
            return None
        if kind is QueryCostLimiter:
            made = factory()
            assert isinstance(made, QueryCostLimiter)
            limiter = made
    return limiter


class FastLane:
    # Set by the test suite: called with every answer the lane gives, to compare it with
    # strawberry's for the same request.
    crosscheck: ClassVar[Crosscheck | None] = None

    def __init__(self, view: LeaseHubGraphQL, size: int = LANE_SIZE) -> None:
        self.view = view
        self.size = size
        self.limiter = limiter_of(view.schema)
        self._schema = view.schema._schema  # type: ignore[attr-defined]
        self._executor_class = view.schema.execution_context_class  # type: ignore[attr-defined]
        self._streams = list(view._stream_transport_map.values())
        self._learnt: dict[tuple[str, str | None], Learnt] = {}

    def takes(self, request: Any) -> bool:
        return (
            self.limiter is not None
            and request.scope["type"] == "http"
            and request.method == "POST"
        )

    async def answer(self, request: Request) -> Response:
        view = self.view
        call = await self._call_of(request)
        if call is None:
            return await view.run_strawberry(request, UNSET)
        learnt = self._learnt.get((call.query, call.operation))
        sub_response = await view.get_sub_response(request)
        request.scope[SUB_RESPONSE] = sub_response  # strawberry's path answers with it too
        context = await view.get_context(request, response=sub_response)
        visit = context.lane = LaneVisit()
        if learnt is not None and self._within_limits(call):
            answer = await self._answer(learnt, call, context, request)
            if answer is not None:
                return answer
        response = await view.run_strawberry(request, context)
        if learnt is None and visit.document is not None:
            self._learn(call, visit)
        return response

    async def _call_of(self, request: Request) -> Call | None:
        content_type = request.headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != "application/json":
            return None
        if self._streams:
            accept = request.headers.get("accept", "")
            if any(stream.accepts(accept) for stream in self._streams):
                return None
        return plain_call(await request.body())

    def _within_limits(self, call: Call) -> bool:
        try:
            self.view.check_request(
                query=call.query, variables=call.variables or {}, operation=call.operation
            )
        except Refusal:
            return False
        return True

    async def _answer(
        self, learnt: Learnt, call: Call, context: Context, request: Request
    ) -> Response | None:
        """The lane's answer; None leaves it to strawberry's path, with the lane's result when
        the lane ran the query. Built and run as graphql-core's `execute` does, with the
        arguments strawberry's `Schema._execute_operation` gives it; the variables are coerced
        once, for the price and the run."""
        executor = self._executor_class.build(
            self._schema,
            learnt.document,
            None,
            context,
            call.variables,
            learnt.operation,
            middleware=MiddlewareManager(),
            is_awaitable=optimized_is_awaitable,
            operation_extensions=None,
        )
        assert context.lane is not None and self.limiter is not None
        if isinstance(executor, list):  # variables that do not fit the document
            context.lane.result = ExecutionResult(None, errors=executor)
            return None
        document, operation = learnt.document, executor.operation
        coerced = executor.variable_values.coerced
        cost = self.limiter.price_coerced(self._schema, document, operation, coerced)
        if cost > self.limiter.budget:
            return None  # refused by strawberry's path before anything runs
        try:
            result = executor.execute_operation()
            if isawaitable(result):
                result = await result
        except Exception as error:  # strawberry's path answers it as if raised there
            context.lane.error = error
            return None
        if result.errors:
            context.lane.result = result
            return None
        data: GraphQLHTTPResponse = {"data": result.data, "extensions": self.limiter.results(cost)}
        response = self.view.create_response(response_data=data, sub_response=context.response)
        if (check := FastLane.crosscheck) is not None:
            await check(self, request, context, result, response)
        return response

    def _learn(self, call: Call, visit: LaneVisit) -> None:
        if len(call.query) > LANE_TEXT_MAX or asks_introspection(visit.document):
            return
        if len(self._learnt) >= self.size:
            self._learnt.clear()  # as the parser cache turns over
        self._learnt[call.query, call.operation] = Learnt(visit.document, visit.operation_name)
