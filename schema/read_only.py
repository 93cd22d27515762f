"""Rules on what an operation may be, by who sends it and how: read-only API tokens (the default
for BI tools) and support views run queries only; a WebSocket runs subscriptions only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from models.i18n import _
from schema.errors import LocalizedError


class ReadOnlyTokens(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        error = _refusal(context.context, context.operation_type)
        if error is not None:
            context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


def _refusal(context: Any, operation: OperationType) -> LocalizedError | None:
    viewer = getattr(context, "viewer", None)
    if viewer is not None and viewer.read_only and operation is OperationType.MUTATION:
        message = (
            _("This API token is read-only: it cannot run mutations.")
            if viewer.on_behalf_of is None
            else _("A support view only reads: it cannot run mutations.")
        )
        return LocalizedError(message, extensions={"code": "FORBIDDEN"})
    # A WebSocket lives on after its sign-in: its queries and mutations would run as whoever
    # signed in, even after a sign-out. Subscriptions verify the token at every push.
    request = getattr(context, "request", None)
    on_websocket = getattr(request, "scope", {}).get("type") == "websocket"
    if on_websocket and operation is not OperationType.SUBSCRIPTION:
        return LocalizedError(
            _("Over a WebSocket only subscriptions run; send queries and mutations over HTTP."),
            extensions={"code": "SUBSCRIPTIONS_ONLY"},
        )
    return None
