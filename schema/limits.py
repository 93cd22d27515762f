"""Limits on what one document may ask, each computed in time linear in the document's size.

strawberry's depth and alias limiters walk a fragment again at every spread, so a document of
fragments that each spread the next one twice (`fragment E0 on Query { ...E1 ...E1 }` …) costs
2^levels visits before anything is refused. Here every fragment is measured once and its result
reused at each spread (`FragmentMemo`), and the same walker prices the cost budget
(`schema/cost.py`).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from models.i18n import _
from schema.errors import LocalizedError

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def operations_of(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


class FragmentMemo:
    """A measure of selection sets in which each named fragment is measured once.

    A spread's fragments are measured dependencies first, found without recursion, so a long
    chain of fragments (each spreading the next) cannot exhaust the stack: measuring one
    fragment recurses only as deep as its own fields nest. A spread of a fragment still being
    measured (a cycle, which validation refuses anyway) counts 0, so no document loops.
    """

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self._measured: dict[str, int] = {}
        self._open: set[str] = set()

    def spread(self, name: str) -> int:
        if name in self.fragments and name not in self._measured and name not in self._open:
            order = self._dependencies_first(name)
            self._open.update(order)
            for each in order:
                self._measured[each] = self.fragment(self.fragments[each])
                self._open.discard(each)
        return self._measured.get(name, 0)

    def fragment(self, fragment: FragmentDefinitionNode) -> int:
        raise NotImplementedError

    def _dependencies_first(self, root: str) -> list[str]:
        """`root` and the unmeasured fragments it spreads, each after those it spreads."""
        order: list[str] = []
        seen = {root}
        stack = [(root, iter(self._spreads_in(root)))]
        while stack:
            name, spreads = stack[-1]
            child = next(spreads, None)
            if child is None:
                stack.pop()
                order.append(name)
            elif child in self.fragments and child not in seen and child not in self._measured:
                seen.add(child)
                stack.append((child, iter(self._spreads_in(child))))
        return order

    def _spreads_in(self, name: str) -> list[str]:
        return [
            node.name.value
            for selection_set in selection_sets([self.fragments[name].selection_set])
            for node in selection_set.selections
            if isinstance(node, FragmentSpreadNode)
        ]


class _Depth(FragmentMemo):
    """Nesting of fields with selections; introspection fields (`__schema`…) are not counted."""

    def fragment(self, fragment: FragmentDefinitionNode) -> int:
        return self.selections(fragment.selection_set)

    def selections(self, selection_set: SelectionSetNode) -> int:
        return max((self._one(node) for node in selection_set.selections), default=0)

    def _one(self, node: object) -> int:
        if isinstance(node, FieldNode):
            if node.selection_set is None or node.name.value.startswith("__"):
                return 0
            return 1 + self.selections(node.selection_set)
        if isinstance(node, InlineFragmentNode):
            return self.selections(node.selection_set)
        if isinstance(node, FragmentSpreadNode):
            return self.spread(node.name.value)
        return 0


class _Aliases(FragmentMemo):
    """Aliased fields, counted at every spread: aliases repeated through fragments still run."""

    def fragment(self, fragment: FragmentDefinitionNode) -> int:
        return self.selections(fragment.selection_set)

    def selections(self, selection_set: SelectionSetNode) -> int:
        return sum(self._one(node) for node in selection_set.selections)

    def _one(self, node: object) -> int:
        if isinstance(node, FieldNode):
            own = 1 if node.alias else 0
            return own + (self.selections(node.selection_set) if node.selection_set else 0)
        if isinstance(node, InlineFragmentNode):
            return self.selections(node.selection_set)
        if isinstance(node, FragmentSpreadNode):
            return self.spread(node.name.value)
        return 0


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class QueryDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            depth = _Depth(fragments_of(context.document))
            for operation in operations_of(context.document):
                if depth.selections(operation.selection_set) > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    message = _(
                        "'{name}' exceeds maximum operation depth of {max_depth}",
                        name=name,
                        max_depth=max_depth,
                    )
                    context.report_error(
                        LocalizedError(
                            message,
                            operation,
                            extensions={"code": "QUERY_TOO_DEEP", "maxDepth": max_depth},
                        )
                    )

    return QueryDepthRule


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    class MaxAliasesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            aliases = _Aliases(fragments_of(document))
            found = sum(aliases.selections(o.selection_set) for o in operations_of(document))
            if found > max_aliases:
                message = _(
                    "{found} aliases found. Allowed: {max_aliases}",
                    found=found,
                    max_aliases=max_aliases,
                )
                context.report_error(
                    LocalizedError(
                        message,
                        extensions={"code": "TOO_MANY_ALIASES", "maxAliases": max_aliases},
                    )
                )

    return MaxAliasesRule


def validated(context: ExecutionContext) -> bool:
    """Whether the document is valid, validating it here unless an earlier extension did.

    strawberry acts on validation errors inside its validation step, before the extensions'
    code after `yield` runs: a check that must refuse a request runs before the yield, after
    ValidationCache (listed earlier) has validated, and validates itself when nothing has."""
    if context.graphql_document is None:
        return False
    if context.pre_execution_errors is None:
        context.pre_execution_errors = validate_document(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
    return not context.pre_execution_errors


def selection_sets(roots: list[SelectionSetNode]) -> Iterator[SelectionSetNode]:
    """`roots` and every selection set inside them, without recursion."""
    stack = list(roots)
    while stack:
        selection_set = stack.pop()
        yield selection_set
        for node in selection_set.selections:
            inner = getattr(node, "selection_set", None)
            if inner is not None:
                stack.append(inner)


def asks_introspection(document: DocumentNode) -> bool:
    """After validation a field named `__schema` or `__type` can only be the meta field."""
    definitions = [*operations_of(document), *fragments_of(document).values()]
    return any(
        isinstance(node, FieldNode) and node.name.value in INTROSPECTION_FIELDS
        for selection_set in selection_sets([d.selection_set for d in definitions])
        for node in selection_set.selections
    )


class IntrospectionPolicy(SchemaExtension):
    """Production: `__schema` and `__type` only for signed-in staff, and only when allowed.

    Checked per request after validation rather than as a validation rule: the validation cache
    is shared by every viewer, and this answer depends on who asks.
    """

    def __init__(self, *, allow_staff: bool) -> None:
        self.allow_staff = allow_staff

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if validated(context) and document and not self._allowed() and asks_introspection(document):
            error = LocalizedError(
                _("Introspection is disabled."), extensions={"code": "INTROSPECTION_DISABLED"}
            )
            context.pre_execution_errors = [error]
        yield

    def _allowed(self) -> bool:
        viewer = getattr(self.execution_context.context, "viewer", None)
        return self.allow_staff and viewer is not None and viewer.is_staff
