"""Read-only API tokens (the default for BI tools) can run queries and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from models.i18n import _
from schema.errors import LocalizedError


class ReadOnlyTokens(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        viewer = getattr(context.context, "viewer", None)
        read_only = viewer is not None and viewer.read_only
        if read_only and context.operation_type is OperationType.MUTATION:
            error = LocalizedError(
                _("This API token is read-only: it cannot run mutations."),
                extensions={"code": "FORBIDDEN"},
            )
            context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield
