"""The compiled execution path: a plan per validated query, run without per-field machinery.

graphql-core resolves every field of every object the same generic way: it looks the field up,
builds a resolve info, lets strawberry build its Info, convert arguments and chain the field's
extensions, then inspects the return type to complete the value. For a list of forty instalments
that work is redone forty times, identically. `CompiledExecutor` does it once per query document
(cached by operation and the values of its @skip/@include variables): each selected field gets
a `FieldPlan` that knows how to fetch its value (an attribute read, or the resolver function
called directly with the request's Info) and a completer built from its return type (leaf,
list, non-null, object with its own plan). Scope checks (`HasScope`) are evaluated once per
client and scope in a request instead of through strawberry's extension chain.

The answer is the same as graphql-core's, byte for byte, errors and their paths included: the
plan follows graphql-core's `Executor` step by step and uses its error handling, and whatever a
plan cannot compile (mutations, introspection, abstract types, extensions other than scope
checks) is left to the inherited generic methods, for that field only or for the whole
operation. `tests/schema/test_compiled_execution.py` and the suite's cross-check
(`tests/crosscheck.py`) compare the two paths on every query the tests send.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from enum import Enum
from inspect import Parameter, signature
from operator import attrgetter
from types import CoroutineType
from typing import Any, ClassVar, cast

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationType,
    Undefined,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields, collect_subfields
from graphql.execution.executor import collect_iterator_awaitables, invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.language import DirectiveNode, Visitor, visit
from graphql.language import VariableNode as GraphQLVariableNode
from graphql.pyutils import Path, is_iterable
from strawberry.permission import PermissionExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from auth.access import missing_scope, require_staff_permission
from auth.errors import ForbiddenError
from auth.staff import StaffPermission
from models.audit import note_read
from schema.flat import (
    PLAIN,
    Call,
    Flat,
    Getter,
    LeafAttribute,
    constant,
    flat_fields,
    flat_leaf,
    flat_list,
    flat_non_null,
    flat_object,
    serialised,
)
from schema.narrow import Reads
from schema.together import together

Completer = Callable[["CompiledExecutor", Any, Path], Any]
PLAN_CACHE_SIZE = 512


class NotCompilable(Exception):
    """A selection the plan leaves to graphql-core's generic path."""


class ObjectPlan:
    """The fields selected on one object type, in response order."""

    __slots__ = ("fields", "flat", "type")

    def __init__(self, object_type: GraphQLObjectType, fields: list[FieldPlan]) -> None:
        self.type = object_type
        self.fields = fields
        # All fields in one call when every one of them is flat (schema/flat.py).
        self.flat: Flat | None = None


class FieldPlan:
    """One selected field: how to fetch its value and how to complete it."""

    __slots__ = (
        "complete",
        "delegate",
        "details",
        "direct",
        "field_def",
        "has_arguments",
        "index",
        "info_name",
        "is_async",
        "key",
        "leaf",
        "name",
        "nodes",
        "parent",
        "resolver",
        "return_type",
        "scopes",
        "self_argument",
        "source_names",
        "strawberry_field",
    )

    def __init__(
        self,
        *,
        index: int,
        key: str,
        parent: GraphQLObjectType,
        field_def: GraphQLField,
        details: FieldDetailsList,
    ) -> None:
        self.index = index
        self.key = key
        self.name = details[0].node.name.value
        self.parent = parent
        self.field_def = field_def
        self.details = details
        self.nodes: list[FieldNode] = [detail.node for detail in details]
        self.return_type: GraphQLOutputType = field_def.type
        self.has_arguments = bool(field_def.args or details[0].node.arguments)
        self.strawberry_field: StrawberryField | None = None
        self.scopes: tuple[Any, ...] = ()
        self.is_async = False
        self.resolver: Callable[..., Any] | None = None
        # How the resolver takes its reserved parameters (strawberry's `get_arguments`):
        self.self_argument = False  # the source first, as `self`
        self.source_names: tuple[str, ...] = ()  # the source as `root` / `parent` keywords
        self.info_name: str | None = None  # the Info as this keyword
        self.delegate = False  # resolved and completed by graphql-core's `execute_field`
        # A sync resolver that takes the source alone (no arguments, scopes or Info).
        self.direct: Callable[[Any], Any] | None = None
        # A plain attribute of a scalar or enum type: read and coerced in one step.
        self.leaf: Callable[[Any], Any] | None = None
        self.complete: Completer = _unset_completer


def _unset_completer(executor: CompiledExecutor, result: Any, path: Path) -> Any:
    raise AssertionError("completer used before the plan was built")  # pragma: no cover


class Plan:
    """The compiled form of one operation, for one set of @skip/@include variable values."""

    __slots__ = ("fields", "narrow", "operation", "reads", "schema", "size")

    def __init__(self, schema: Any, operation: Any) -> None:
        # Both kept alive: their ids are the cache key. An app builds its own schema (tests run
        # several), while the parser cache may hand two schemas the same document.
        self.schema = schema
        self.operation = operation
        self.fields: list[FieldPlan] = []
        self.size = 0
        self.reads = Reads()
        # Per model, the columns the plan's fields read (schema/narrow.py); empty: all.
        self.narrow: dict[type[Any], frozenset[str]] = {}


class PlanCache:
    """Plans by operation and directive variables; bounded, least recently used goes first."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._size = size
        self._plans: OrderedDict[tuple[Any, ...], Plan | None] = OrderedDict()
        self._directive_variables: dict[int, tuple[Any, tuple[str, ...]]] = {}

    def key(self, executor: CompiledExecutor) -> tuple[Any, ...]:
        operation = executor.operation
        known = self._directive_variables.get(id(operation))
        if known is None or known[0] is not operation:
            known = (operation, _directive_variables(executor))
            self._directive_variables[id(operation)] = known
            if len(self._directive_variables) > 2 * self._size:
                self._directive_variables.clear()
        coerced = executor.variable_values.coerced
        variables = (bool(coerced.get(name)) for name in known[1])
        return (id(executor.schema), id(operation), *variables)

    def get(self, key: tuple[Any, ...], executor: CompiledExecutor) -> tuple[bool, Plan | None]:
        if key not in self._plans:
            return False, None
        plan = self._plans[key]
        if plan is not None and (
            plan.operation is not executor.operation or plan.schema is not executor.schema
        ):
            return False, None
        self._plans.move_to_end(key)
        return True, plan

    def put(self, key: tuple[Any, ...], plan: Plan | None) -> None:
        self._plans[key] = plan
        if len(self._plans) > self._size:
            self._plans.popitem(last=False)


def _directive_variables(executor: CompiledExecutor) -> tuple[str, ...]:
    """Variables that decide @skip/@include anywhere in the operation or its fragments."""
    names: set[str] = set()

    class Directives(Visitor):
        def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, GraphQLVariableNode):
                    names.add(argument.value.name.value)

    visit(executor.operation, Directives())
    for fragment in executor.fragment_definitions.values():
        visit(fragment, Directives())
    return tuple(sorted(names))


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, running queries from cached plans."""

    plans: ClassVar[PlanCache] = PlanCache()
    _infos: list[Any]
    # Set by the test suite: called with (executor, compiled result) for every planned query.
    crosscheck: ClassVar[Callable[[CompiledExecutor, Any], Any] | None] = None

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self._plan() if serially is None else None
        if plan is None:
            return super().execute_operation(serially)
        result = self._run(plan)
        check = CompiledExecutor.crosscheck
        if check is not None:
            result = check(self, result)
        if self.is_awaitable(result):
            return self._released_after(result)
        self._release()
        return result

    async def _released_after(self, result: Awaitable[Any]) -> Any:
        try:
            return await result
        finally:
            self._release()

    def _release(self) -> None:
        """graphql-core's executor and its `async_helpers` (its own bound methods, also held by
        every Info) hold each other: the request's whole graph (context, loaders, rows, Infos)
        then waited for the collector instead of going with its last reference, about sixty
        objects a request filling the young generation, whose collections paused every request
        in flight. Nothing runs on the executor once its result is complete."""
        self.async_helpers = None  # type: ignore[assignment]
        self._infos = [None] * len(self._infos)  # work left running finds no Info to hold

    def execute_generic(self) -> Any:
        """The operation through graphql-core's own path (for the cross-check)."""
        return super().execute_operation(None)

    # -- planning ---------------------------------------------------------------------------

    def _plan(self) -> Plan | None:
        if not self._compilable():
            return None
        cache = CompiledExecutor.plans
        key = cache.key(self)
        found, plan = cache.get(key, self)
        if not found:
            try:
                plan = self._build_plan()
            except Exception:
                return None
            cache.put(key, plan)
        return plan

    def _compilable(self) -> bool:
        middleware = self.middleware_manager
        return (
            self.operation.operation is OperationType.QUERY
            and self.abort_signal is None
            and self.hooks is None
            and (middleware is None or not middleware.middlewares)
            and all(details.variable_signatures is None for details in self.fragments.values())
        )

    def _build_plan(self) -> Plan | None:
        root_type = self.schema.query_type
        if root_type is None:
            return None
        grouped, defers, _forbidden = collect_fields(
            self.schema,
            self.fragments,
            self.variable_values,
            root_type,
            self.operation,
            self.hide_suggestions,
        )
        if defers:
            return None
        plan = Plan(self.schema, self.operation)
        plan.fields = self._field_plans(plan, root_type, grouped.items())
        plan.reads.note(root_type, plan.fields)
        plan.narrow = plan.reads.narrow()
        return plan

    def _field_plans(
        self,
        plan: Plan,
        parent: GraphQLObjectType,
        grouped: Iterable[tuple[str, FieldDetailsList]],
    ) -> list[FieldPlan]:
        fields: list[FieldPlan] = []
        for key, details in grouped:
            field_def = self.schema.get_field(parent, details[0].node.name.value)
            if field_def is None:
                continue
            field = FieldPlan(
                index=plan.size, key=key, parent=parent, field_def=field_def, details=details
            )
            plan.size += 1
            try:
                self._plan_resolver(field)
                field.complete = self._completer(plan, field, field.return_type)
            except NotCompilable:
                field.delegate = True
            else:
                field.leaf = _attribute_leaf(field)
                field.direct = _direct_call(field)
            fields.append(field)
        return fields

    def _plan_resolver(self, field: FieldPlan) -> None:
        if field.name.startswith("__"):
            if field.name != "__typename":
                raise NotCompilable(field.name)
            return
        definition = (field.field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if not isinstance(definition, StrawberryField):
            raise NotCompilable(field.name)
        resolve = field.field_def.resolve
        if resolve is None or getattr(resolve, "_is_default", None) is None:
            raise NotCompilable(field.name)  # not strawberry's own resolver
        field.strawberry_field = definition
        field.is_async = definition.is_async
        if definition.is_basic_field:
            return
        scopes = []
        for extension in definition.extensions:
            scopes.append(_scope_of(extension))
        field.scopes = tuple(scopes)
        if definition.base_resolver is None:
            raise NotCompilable(field.name)
        resolver = definition.base_resolver
        field.resolver = cast("Callable[..., Any]", resolver.wrapped_func)
        field.self_argument = resolver.self_parameter is not None
        sources = (resolver.parent_parameter, resolver.root_parameter)
        field.source_names = tuple(parameter.name for parameter in sources if parameter)
        field.info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def _completer(self, plan: Plan, field: FieldPlan, return_type: GraphQLOutputType) -> Completer:
        if is_non_null_type(return_type):
            return _non_null(field, self._completer(plan, field, return_type.of_type))
        if is_list_type(return_type):
            return _list(field, return_type, self._completer(plan, field, return_type.of_type))
        if is_leaf_type(return_type):
            return _leaf(return_type)
        if is_abstract_type(return_type):
            plan.reads.unknown()
            return _abstract(field, return_type)
        if is_object_type(return_type):
            return self._object_completer(plan, field, return_type)
        raise NotCompilable(field.name)  # pragma: no cover

    def _object_completer(
        self, plan: Plan, field: FieldPlan, object_type: GraphQLObjectType
    ) -> Completer:
        grouped, defers, _forbidden = collect_subfields(
            self.schema,
            self.fragments,
            self.variable_values,
            self.operation,
            object_type,
            field.details,
            self.hide_suggestions,
        )
        if defers:
            raise NotCompilable(field.name)
        subplan = ObjectPlan(object_type, self._field_plans(plan, object_type, grouped.items()))
        plan.reads.note(object_type, subplan.fields)
        getters = [(each.key, _flat_getter(each)) for each in subplan.fields]
        if all(getter is not None for _key, getter in getters):
            subplan.flat = flat_fields(cast("list[tuple[str, Getter]]", getters))
        return _object(field, subplan)

    # -- running ----------------------------------------------------------------------------

    def _run(self, plan: Plan) -> Any:
        """Mirrors `Executor.execute_operation` for a query whose root fields are planned."""
        self._infos = [None] * plan.size
        self._scopes: dict[tuple[int, Any], bool] = {}
        self._converter = self.schema._strawberry_schema.schema_converter  # type: ignore[attr-defined]
        loaders = getattr(self.context_value, "loaders", None)
        if getattr(loaders, "narrowable", False):
            loaders.narrowed_for(plan.narrow)  # type: ignore[union-attr]
        root = ObjectPlan(self.schema.query_type, plan.fields)  # type: ignore[arg-type]
        try:
            result = self.run_object(root, self.root_value, None)
            if pending(result):
                return self._await_root(result)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.finish(self.build_response(None))
        return self.finish(self.build_response(result))

    async def _await_root(self, result: Awaitable[dict[str, Any]]) -> Any:
        try:
            data = await result
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        return self.build_response(data)

    def run_object(self, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
        """Mirrors `Executor.execute_fields`."""
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        type_name = plan.type.name
        try:
            for field in plan.fields:
                if field.leaf is not None:
                    try:
                        result = field.leaf(source)
                    except Exception as raw_error:
                        field_path = Path(path, field.key, type_name)  # only errors need it
                        self.handle_field_error(
                            raw_error, field.return_type, field.details, field_path
                        )
                        result = None
                    if result is not _GENERAL:
                        results[field.key] = result
                        continue
                field_path = Path(path, field.key, type_name)
                if field.delegate:
                    result = self.execute_field(
                        field.parent, source, field.details, field_path, None
                    )
                else:
                    result = self.run_field(field, source, field_path)
                results[field.key] = result
                if pending(result):
                    awaitable_fields.append(field.key)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[key] for key in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _gather_fields(results, awaitable_fields)

    def run_field(self, field: FieldPlan, source: Any, path: Path) -> Any:
        """Mirrors `Executor.execute_field`."""
        try:
            direct = field.direct
            result = direct(source) if direct is not None else self.resolve(field, source, path)
            if self.is_awaitable(result):
                return self._complete_awaitable(field, path, result)
            completed = field.complete(self, result, path)
            if pending(completed):
                return self._await_completed(field, path, completed)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, path)
            return None
        return completed

    def resolve(self, field: FieldPlan, source: Any, path: Path) -> Any:
        definition = field.strawberry_field
        if definition is None:  # __typename
            return field.parent.name
        if field.resolver is None:  # a plain attribute
            return getattr(source, definition.python_name)
        # graphql-core coerces the arguments before it calls any resolver: its errors are the
        # field's at once, async or not; strawberry converts them inside the (async) resolver.
        raw = self._raw_arguments(field) if field.has_arguments else None
        try:
            kwargs: dict[str, Any] = (
                {} if raw is None else self._arguments(field, raw, self.info_for(field, path))
            )
            for scope in field.scopes:
                if type(scope) is StaffPermission:  # the viewer's, whatever the source
                    require_staff_permission(self.context_value.viewer, scope)
                elif not self._has_scope(source, scope):
                    raise ForbiddenError(missing_scope(scope))
        except Exception as error:
            if field.is_async:  # strawberry's async resolver fails when awaited, not when called
                return _raising(error)
            raise
        for name in field.source_names:
            kwargs[name] = source
        if field.info_name is not None:
            kwargs[field.info_name] = self.info_for(field, path)
        resolver = field.resolver
        return resolver(source, **kwargs) if field.self_argument else resolver(**kwargs)

    def _raw_arguments(self, field: FieldPlan) -> dict[str, Any]:
        first = field.details[0]
        return get_argument_values(
            field.field_def,
            first.node,
            self.variable_values,
            first.fragment_variable_values,
            self.hide_suggestions,
        )

    def _arguments(self, field: FieldPlan, raw: dict[str, Any], info: Any) -> dict[str, Any]:
        """strawberry's `get_arguments`: the Python values a resolver takes."""
        definition = field.strawberry_field
        assert definition is not None
        converter = self._converter
        kwargs: dict[str, Any] = convert_arguments(
            raw,
            definition.arguments,
            scalar_registry=converter.scalar_registry,
            config=converter.config,
            info=info,
        )
        for extension in definition.extensions:
            kwargs = extension.map_arguments(kwargs)
        return kwargs

    def _has_scope(self, source: Any, scope: Any) -> bool:
        """HasScope, once per client and scope in a request."""
        from schema.base import client_id_of

        key = (client_id_of(source), scope)
        allowed = self._scopes.get(key)
        if allowed is None:
            viewer = self.context_value.viewer
            allowed = self._scopes[key] = viewer.has_scope(key[0], scope)
            if allowed and viewer.looks_as_staff:  # as HasScope: the company's access log
                note_read(key[0], scope)
        return allowed

    def info_for(self, field: FieldPlan, path: Path | None) -> Any:
        """strawberry's Info for a field, one per field and request: resolvers read its context.

        Its `path` is None: the same Info serves every object the field is resolved on.
        """
        info = self._infos[field.index]
        if info is None:
            raw = self.build_resolve_info(field.field_def, field.nodes, field.parent, None)  # type: ignore[arg-type]
            definition = field.strawberry_field
            converter = raw.schema._strawberry_schema.schema_converter  # type: ignore[attr-defined]
            info = converter.config.info_class(_raw_info=raw, _field=definition)
            self._infos[field.index] = info
        return info

    def raw_info(self, field: FieldPlan, path: Path) -> GraphQLResolveInfo:
        return self.build_resolve_info(field.field_def, field.nodes, field.parent, path)

    async def _complete_awaitable(self, field: FieldPlan, path: Path, result: Any) -> Any:
        """Mirrors `Executor.complete_awaitable_value`."""
        try:
            resolved = await result
            completed = field.complete(self, resolved, path)
            if pending(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, path)
            completed = None
        return completed

    async def _await_completed(self, field: FieldPlan, path: Path, completed: Any) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, path)
            return None


_GENERAL = object()  # an attribute value the leaf shortcut leaves to the general path


def _attribute_leaf(field: FieldPlan) -> Callable[[Any], Any] | None:
    """For a plain attribute of a (non-null) scalar or enum type: `resolve` and the leaf's
    completers in one function, the same answers and errors. Values other than plain data
    (an exception, an awaitable) return `_GENERAL`, for `run_field` to handle as ever."""
    definition = field.strawberry_field
    if definition is None or field.resolver is not None:
        return None
    return_type, message = field.return_type, None
    if is_non_null_type(return_type):
        message = f"Cannot return null for non-nullable field {field.parent.name}.{field.name}."
        return_type = return_type.of_type
    if not is_leaf_type(return_type):
        return None
    name, leaf_type = definition.python_name, return_type

    def read(source: Any) -> Any:
        value = getattr(source, name)
        if value is None:
            if message is not None:
                raise TypeError(message)
            return None
        if type(value) not in PLAIN and not isinstance(value, Enum):
            return _GENERAL
        return serialised(leaf_type, value)

    return read


def _direct_call(field: FieldPlan) -> Callable[[Any], Any] | None:
    """`resolve` for a sync resolver that takes nothing but its source (a `Money` or an id from
    a row): the call itself, its keywords worked out once."""
    resolver = field.resolver
    if resolver is None or field.is_async or field.has_arguments or field.scopes:
        return None
    if field.info_name is not None:
        return None
    names = field.source_names
    if field.self_argument:
        if not names:
            return resolver
        return lambda source: resolver(source, **dict.fromkeys(names, source))
    if len(names) == 1:
        name = names[0]
        if _first_and_only(resolver, name):
            return resolver  # called with the source in its place: no keywords to build
        return lambda source: resolver(**{name: source})
    return lambda source: resolver(**dict.fromkeys(names, source))


def _first_and_only(function: Callable[..., Any], name: str) -> bool:
    """Whether `name` is the function's one parameter, and may be passed by position."""
    try:
        parameters = list(signature(function).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    return (
        len(parameters) == 1
        and parameters[0].name == name
        and parameters[0].kind is Parameter.POSITIONAL_OR_KEYWORD
    )


def _flat_getter(field: FieldPlan) -> Getter | None:
    """A field's value serialised from its source on the flat path, if it can be."""
    if field.delegate:
        return None
    definition = field.strawberry_field
    if field.leaf is not None and definition is not None:
        return_type = field.return_type
        non_null = is_non_null_type(return_type)
        leaf_type = cast("GraphQLLeafType", getattr(return_type, "of_type", return_type))
        return LeafAttribute(definition.python_name, leaf_type, non_null)
    if definition is None:  # __typename
        return constant(field.parent.name)
    twin = _twin_of(field.complete)
    if twin is None:
        return None
    if field.direct is not None:
        return Call(field.direct, twin)
    if field.resolver is None:  # a plain attribute holding an object or a list
        return Call(attrgetter(definition.python_name), twin)
    return None


def _twin_of(completer: Completer) -> Flat | None:
    twin: Flat | None = getattr(completer, "flat", None)
    return twin


def _with_twin(completer: Completer, twin: Flat | None) -> Completer:
    completer.flat = twin  # type: ignore[attr-defined]
    return completer


def pending(value: Any) -> bool:
    """Whether a completed value is still to be awaited: completion (ours and graphql-core's)
    only ever returns coroutines for that, so one type check does instead of `is_awaitable`."""
    return type(value) is CoroutineType


def _scope_of(extension: Any) -> Any:
    """The scope of a `scoped()` extension, or the staff permission of a `staff_permission()`
    one; anything else is not compiled."""
    from schema.base import HasScope, HasStaffPermission

    if not isinstance(extension, PermissionExtension) or extension.fail_silently:
        raise NotCompilable(type(extension).__name__)
    if extension.use_directives or len(extension.permissions) != 1:
        raise NotCompilable(type(extension).__name__)
    permission = extension.permissions[0]
    if type(permission) is HasStaffPermission:
        return permission.permission
    if type(permission) is not HasScope:
        raise NotCompilable(type(permission).__name__)
    return permission.scope


async def _raising(error: Exception) -> Any:
    raise error


async def _gather_fields(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    if len(awaitable_fields) == 1:
        key = awaitable_fields[0]
        results[key] = await results[key]
    else:
        awaited = await together([results[key] for key in awaitable_fields])
        results.update(zip(awaitable_fields, awaited, strict=True))
    return results


# -- completers: each mirrors a branch of `Executor.complete_value` ----------------------------


def _non_null(field: FieldPlan, inner: Completer) -> Completer:
    message = f"Cannot return null for non-nullable field {field.parent.name}.{field.name}."

    def complete(executor: CompiledExecutor, result: Any, path: Path) -> Any:
        if isinstance(result, Exception):
            raise result
        completed = inner(executor, result, path)
        if completed is None:
            raise TypeError(message)
        return completed

    inner_twin = _twin_of(inner)
    return _with_twin(complete, None if inner_twin is None else flat_non_null(inner_twin))


def _leaf(leaf_type: GraphQLLeafType) -> Completer:
    def complete(executor: CompiledExecutor, result: Any, path: Path) -> Any:
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        return serialised(leaf_type, result)

    return _with_twin(complete, flat_leaf(leaf_type))


def _abstract(field: FieldPlan, abstract_type: Any) -> Completer:
    """Interfaces and unions: graphql-core's own completion, for this value only."""

    def complete(executor: CompiledExecutor, result: Any, path: Path) -> Any:
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        info = executor.raw_info(field, path)
        return executor.complete_abstract_value(
            abstract_type, field.details, info, path, result, None
        )

    return complete


def _object(field: FieldPlan, plan: ObjectPlan) -> Completer:
    object_type = plan.type
    fields_flat = plan.flat

    def complete(executor: CompiledExecutor, result: Any, path: Path) -> Any:
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        if object_type.is_type_of:
            info = executor.info_for(field, path)._raw_info
            is_type_of = object_type.is_type_of(result, info)
            if executor.is_awaitable(is_type_of):  # none of ours: graphql-core awaits it
                return executor.complete_object_value(
                    object_type, field.details, info, path, result, None
                )
            if not is_type_of:
                raise invalid_return_type_error(object_type, result, field.details)
        if fields_flat is not None:
            try:
                return fields_flat(result)
            except Exception:  # noqa: S110 - the general path answers, errors and all
                pass
        return executor.run_object(plan, result, path)

    twin = None if fields_flat is None else flat_object(object_type, fields_flat)
    return _with_twin(complete, twin)


def _list(field: FieldPlan, list_type: GraphQLList[Any], item: Completer) -> Completer:
    item_type = list_type.of_type
    item_flat = _twin_of(item)
    twin = None if item_flat is None else flat_list(item_flat)
    message = (
        f"Expected Iterable, but did not find one for field '{field.parent.name}.{field.name}'."
    )

    def complete(executor: CompiledExecutor, result: Any, path: Path) -> Any:
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        if executor.is_async_iterable(result):
            info = executor.raw_info(field, path)
            return executor.complete_list_value(list_type, field.details, info, path, result, None)
        if not is_iterable(result):
            raise GraphQLError(message)
        if twin is not None and type(result) is list:
            try:
                return twin(result)
            except Exception:  # noqa: S110 - the general path answers, errors and all
                pass
        return _complete_items(executor, field, item_type, item, result, path)

    return _with_twin(complete, twin)


def _complete_items(
    executor: CompiledExecutor,
    field: FieldPlan,
    item_type: GraphQLOutputType,
    item: Completer,
    items: Iterable[Any],
    path: Path,
) -> Any:
    """Mirrors `Executor.complete_iterable_value` without @stream."""
    is_awaitable = executor.is_awaitable
    completed_results: list[Any] = []
    awaitable_indices: list[int] = []
    iterator = iter(items)
    try:
        for index, value in enumerate(iterator):
            item_path = path.add_key(index, None)
            if is_awaitable(value):
                completed_results.append(
                    _complete_awaitable_item(executor, field, item_type, item, value, item_path)
                )
                awaitable_indices.append(index)
                continue
            try:
                completed = item(executor, value, item_path)
                if pending(completed):
                    completed_results.append(
                        _await_item(executor, field, item_type, completed, item_path)
                    )
                    awaitable_indices.append(index)
                else:
                    completed_results.append(completed)
            except Exception as raw_error:
                executor.handle_field_error(raw_error, item_type, field.details, item_path)
                completed_results.append(None)
    except Exception:
        # A non-null item failed: the awaitables made so far, and any the list still holds,
        # are settled in the background rather than dropped, as graphql-core does.
        started = [completed_results[index] for index in awaitable_indices]
        started.extend(collect_iterator_awaitables(iterator, is_awaitable))
        if started:
            executor.settle_in_background(started)
        raise
    if not awaitable_indices:
        return completed_results
    return _gather_items(completed_results, awaitable_indices)


async def _complete_awaitable_item(
    executor: CompiledExecutor,
    field: FieldPlan,
    item_type: GraphQLOutputType,
    item: Completer,
    value: Any,
    item_path: Path,
) -> Any:
    try:
        completed = item(executor, await value, item_path)
        if pending(completed):
            completed = await completed
    except Exception as raw_error:
        executor.handle_field_error(raw_error, item_type, field.details, item_path)
        return None
    return completed


async def _await_item(
    executor: CompiledExecutor,
    field: FieldPlan,
    item_type: GraphQLOutputType,
    completed: Awaitable[Any],
    item_path: Path,
) -> Any:
    try:
        return await completed
    except Exception as raw_error:
        executor.handle_field_error(raw_error, item_type, field.details, item_path)
        return None


async def _gather_items(completed: list[Any], indices: list[int]) -> list[Any]:
    if len(indices) == 1:
        index = indices[0]
        completed[index] = await completed[index]
    else:
        awaited = await together([completed[index] for index in indices])
        for index, value in zip(indices, awaited, strict=True):
            completed[index] = value
    return completed


__all__ = ["CompiledExecutor"]
