"""A query cost budget, computed from the document before anything runs.

Every selected field costs 1; the selections under a field that takes `first` count `first` times
(its default when not given), so `contracts(first: 100) { invoices(first: 100) { … } }` costs what
it may really load. Over the budget, the request is refused before execution; the cost of every
request is reported in `extensions.cost`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

PAGE_ARGUMENT = "first"


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_cost(
        self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str] = frozenset()
    ) -> int:
        if selections is None:
            return 0
        total = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                total += self.field_cost(node, parent, seen)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_cost(node.selection_set, target, seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection_cost(
                        fragment.selection_set, target, seen | {node.name.value}
                    )
        return total

    def field_cost(self, node: FieldNode, parent: Any, seen: frozenset[str]) -> int:
        field = self._field(parent, node.name.value)
        child_type = get_named_type(field.type) if field else None
        children = self.selection_cost(node.selection_set, child_type, seen)
        return 1 + self._page_size(node, field) * children

    @staticmethod
    def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    def _page_size(self, node: FieldNode, field: GraphQLField | None) -> int:
        if field is None or PAGE_ARGUMENT not in field.args:
            return 1
        for argument in node.arguments or ():
            if argument.name.value != PAGE_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 1)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return max(int(given), 1) if isinstance(given, int) else 1
        default = field.args[PAGE_ARGUMENT].default_value
        return max(default, 1) if isinstance(default, int) else 1


def query_cost(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name and op.name.value == operation_name)
    ]
    if not chosen:
        return 0
    operation = chosen[0]
    root: GraphQLObjectType | None = schema.get_root_type(operation.operation)
    return _Walker(schema, fragments, variables or {}).selection_cost(operation.selection_set, root)


class QueryCostLimiter(SchemaExtension):
    def __init__(self, *, budget: int) -> None:
        self.budget = budget
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and not context.pre_execution_errors:
            self.cost = query_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if self.cost > self.budget:
                error = GraphQLError(
                    f"Query cost {self.cost} exceeds the budget of {self.budget}: "
                    "ask for smaller pages (`first`) or fewer nested lists.",
                    extensions={
                        "code": "QUERY_TOO_COSTLY",
                        "cost": self.cost,
                        "budget": self.budget,
                    },
                )
                context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requested": self.cost, "budget": self.budget}}
