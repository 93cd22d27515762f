"""A query cost budget, computed from the validated document before anything runs.

Every selected field costs 1; the selections under a field that takes `first` count `first` times,
so `contracts(first: 100) { invoices(first: 100) { … } }` costs what it may really load. `first`
is read from the coerced variables, operation defaults included (`query($f: Int = 100)` with `$f`
omitted costs what `f: 100` costs); an absent or null `first` costs the field's default, or the
page maximum when the field has none. Each fragment is priced once (`FragmentMemo`), so the time
is linear in the document's size. Over the budget, the request is refused before execution; the
cost of every request is reported in `extensions.cost`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_variable_values,
    visit,
)
from graphql.utilities.coerce_input_value import coerce_default_value
from strawberry.extensions import SchemaExtension

from models.i18n import _
from schema.errors import LocalizedError
from schema.limits import FragmentMemo, fragments_of, operations_of, validated

PAGE_ARGUMENT = "first"
# Costs saturate here: an exploding document must not build huge integers, and the reported
# cost must stay a number every JSON client reads exactly.
COST_CAP = 2**53 - 1


class _Pricer(FragmentMemo):
    """Prices selections. A named fragment's fields are those of its type condition, not of the
    spread's parent, so its price depends on its name only and is memoised by it."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        page_max: int,
    ) -> None:
        super().__init__(fragments)
        self.schema = schema
        self.variables = variables
        self.page_max = page_max

    def fragment(self, fragment: FragmentDefinitionNode) -> int:
        parent = self.schema.get_type(fragment.type_condition.name.value)
        return self.selections(fragment.selection_set, parent)

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(node.selection_set, target)
            elif isinstance(node, FragmentSpreadNode):
                total += self.spread(node.name.value)
        return min(total, COST_CAP)

    def field(self, node: FieldNode, parent: Any) -> int:
        field = _field(parent, node.name.value)
        child_type = get_named_type(field.type) if field else None
        children = self.selections(node.selection_set, child_type)
        return min(1 + self.page_size(node, field) * children, COST_CAP)

    def page_size(self, node: FieldNode, field: GraphQLField | None) -> int:
        if field is None or PAGE_ARGUMENT not in field.args:
            return 1
        given = self._given(node)
        if given is None:
            # coerce_default_value: a default may be kept as a literal (SDL-built schemas)
            default = coerce_default_value(field.args[PAGE_ARGUMENT])
            given = default if isinstance(default, int) else self.page_max
        return max(given, 1)

    def _given(self, node: FieldNode) -> int | None:
        """The `first` the request sends: a literal or a coerced variable (defaults applied)."""
        for argument in node.arguments or ():
            if argument.name.value != PAGE_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return given if isinstance(given, int) else None
        return None


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields else None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    chosen = [
        op for op in operations_of(document) if name is None or (op.name and op.name.value == name)
    ]
    return chosen[0] if chosen else None


def _coerced(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> dict[str, Any] | None:
    """The variables as execution will see them, or None when they cannot be coerced (execution
    then refuses the request with the coercion errors, so there is nothing to price)."""
    result = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(result, list):
        return None
    # graphql-core 3.3 wraps them, 3.2 does not
    coerced = result if isinstance(result, dict) else result.coerced
    return dict(coerced)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    page_max: int,
    prices: PriceCache | None = None,
) -> int:
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    coerced = _coerced(schema, operation, variables or {})
    if coerced is None:
        return 0
    return coerced_cost(schema, document, operation, coerced, page_max=page_max, prices=prices)


def coerced_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    coerced: dict[str, Any],
    *,
    page_max: int,
    prices: PriceCache | None = None,
) -> int:
    """The cost of `operation` with variables already coerced (by the executor, say)."""
    if prices is None:
        return _price(schema, document, operation, coerced, page_max)
    return prices.price(schema, document, operation, coerced, page_max)


def _price(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    coerced: dict[str, Any],
    page_max: int,
) -> int:
    pricer = _Pricer(schema, fragments_of(document), coerced, page_max)
    return pricer.selections(operation.selection_set, schema.get_root_type(operation.operation))


def page_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables any `first` argument of the document takes: all a price depends on
    besides the document itself."""
    names: set[str] = set()

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
            if node.name.value == PAGE_ARGUMENT and isinstance(node.value, VariableNode):
                names.add(node.value.name.value)

    visit(document, Finder())
    return tuple(sorted(names))


class PriceCache:
    """Prices of the documents the server sees, per operation and page-size variable values.

    A dashboard sends the same few documents all day, and ParserCache hands out the same
    `DocumentNode` for the same text: walking it again to price it was a tenth of a small
    query's CPU. Keyed by the document's identity (the node itself is kept, so the id cannot
    be reused while cached); bounded, emptied when full, as the parser cache turns over.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._documents: dict[int, tuple[DocumentNode, tuple[str, ...], dict[Any, int]]] = {}

    def price(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        coerced: dict[str, Any],
        page_max: int,
    ) -> int:
        entry = self._documents.get(id(document))
        if entry is None or entry[0] is not document:
            if len(self._documents) >= self.maxsize:
                self._documents.clear()
            entry = self._documents[id(document)] = (document, page_variables(document), {})
        _document, names, prices = entry
        key = (id(operation), page_max, *(coerced.get(name) for name in names))
        try:
            return prices[key]
        except TypeError:  # an unhashable value where an Int goes: coercion kept it as given
            return _price(schema, document, operation, coerced, page_max)
        except KeyError:
            cost = prices[key] = _price(schema, document, operation, coerced, page_max)
            return cost


class QueryCostLimiter(SchemaExtension):
    def __init__(self, *, budget: int, page_max: int, prices: PriceCache | None = None) -> None:
        self.budget = budget
        self.page_max = page_max
        self.prices = prices  # one per schema: a price is the schema's
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        # Only a valid document is priced: its fragments exist and form no cycle.
        context = self.execution_context
        if validated(context) and context.graphql_document is not None:
            self.cost = query_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
                page_max=self.page_max,
                prices=self.prices,
            )
            if self.cost > self.budget:
                context.pre_execution_errors = [self._refusal(self.cost)]
        yield

    def price_coerced(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        coerced: dict[str, Any],
    ) -> int:
        """The price of `operation` with variables the executor coerced (hub/lane.py)."""
        return coerced_cost(
            schema, document, operation, coerced, page_max=self.page_max, prices=self.prices
        )

    def _refusal(self, cost: int) -> GraphQLError:
        message = _(
            "Query cost {cost} exceeds the budget of {budget}: "
            "ask for smaller pages (`first`) or fewer nested lists.",
            cost=cost,
            budget=self.budget,
        )
        return LocalizedError(
            message,
            extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "budget": self.budget},
        )

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else self.results(self.cost)

    def results(self, cost: int) -> dict[str, Any]:
        """The answer's `extensions` entry for a request of this cost."""
        return {"cost": {"requested": cost, "budget": self.budget}}
