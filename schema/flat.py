"""Flat twins of the compiled completers: a synchronous subtree serialised in one call per object.

Most objects of a big answer are small and synchronous: an instalment's attributes, its four
`Money` values, an id made from a row. The compiled completers still walk them like any other
field (a path per field and item, a check for awaitables after each value, the error handling
set up around each). A flat twin turns a value into its serialised form with none of that,
assuming everything is regular: plain attribute values, sync resolvers that take the source
alone, objects of the expected type, no nulls where the schema forbids them.

Anything irregular raises, and the caller then completes the same value on the general
compiled path, which gives the answer and the errors (with their paths) graphql-core would.
That is safe because a flat twin only reads: attributes, and resolvers that take nothing but
their source (`FieldPlan.direct`: a `Money` or an id built from a row).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from keyword import iskeyword
from operator import attrgetter
from typing import Any, cast

from graphql import GraphQLLeafType, GraphQLObjectType, Undefined
from graphql.pyutils import inspect
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_int, serialize_string

Flat = Callable[[Any], Any]
# Modules whose `is_type_of` functions never look at their info argument: strawberry's own and
# our node types' (schema/base.py). Others keep their objects on the general path.
_INFO_FREE_MODULES = frozenset({"strawberry.schema.schema_converter", "schema.base"})
_NO_INFO: Any = None  # what `is_type_of` gets instead of a resolve info
_INT_RANGE = "-2147483648 <= v <= 2147483647"  # GraphQL's Int is 32 bits


def _usual(leaf_type: GraphQLLeafType) -> tuple[type, str] | None:
    """The Python type a scalar's values usually have, and the expression that serialises such
    a value `v` as the scalar's own serialiser does (LEAF: the twin, for what it refuses);
    None: always call the serialiser."""
    coerce = leaf_type.coerce_output_value
    if coerce is serialize_string or coerce is serialize_id:
        return str, "v"  # a str as it is
    if coerce is serialize_boolean:
        return bool, "v"
    if coerce is serialize_int:
        return int, f"(v if {_INT_RANGE} else LEAF(v))"
    if coerce is str and leaf_type.name == "Decimal":
        return Decimal, "str(v)"
    if repr(coerce) == "operator.methodcaller('isoformat')":
        kinds: dict[str, type] = {"Date": date, "DateTime": datetime}
        kind = kinds.get(leaf_type.name)
        return None if kind is None else (kind, "v.isoformat()")
    return None


PLAIN = frozenset({str, int, float, bool, Decimal, date, datetime})


class Irregular(Exception):
    """A value the flat twin leaves to the general path."""


def serialised(leaf_type: GraphQLLeafType, value: Any) -> Any:
    """Mirrors `Executor.complete_leaf_value`: the scalar's or enum's output, never null."""
    coerced = leaf_type.coerce_output_value(value)
    if coerced is Undefined or coerced is None:
        raise TypeError(
            f"Expected `{inspect(leaf_type)}.coerce_output_value({inspect(value)})` to return"
            f" non-nullable value, returned: {inspect(coerced)}"
        )
    return coerced


def flat_leaf(leaf_type: GraphQLLeafType) -> Flat:
    coerce = leaf_type.coerce_output_value

    def flat(value: Any) -> Any:
        if value is None:
            return None
        if type(value) not in PLAIN and not isinstance(value, Enum):
            raise Irregular
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Irregular
        return coerced

    flat.leaf_type = leaf_type  # type: ignore[attr-defined]
    return flat


def flat_non_null(inner: Flat) -> Flat:
    def flat(value: Any) -> Any:
        completed = inner(value)
        if completed is None:
            raise Irregular
        return completed

    _mark(flat, getattr(inner, "fields", None), non_null=True, kinds=getattr(inner, "kinds", None))
    flat.leaf_type = getattr(inner, "leaf_type", None)  # type: ignore[attr-defined]
    return flat


def _mark(
    twin: Flat, fields: Flat | None, *, non_null: bool, kinds: tuple[type, ...] | None = None
) -> None:
    """An object twin says what `flat_fields` and `flat_list` need to inline it: its fields'
    function, whether null is refused, and the classes its type check accepts (None: no
    check, or one that cannot be inlined, when `fields` is None)."""
    if fields is not None:
        twin.fields = fields  # type: ignore[attr-defined]
        twin.non_null = non_null  # type: ignore[attr-defined]
        twin.kinds = kinds  # type: ignore[attr-defined]


def flat_list(item: Flat) -> Flat:
    fields, kinds = getattr(item, "fields", None), getattr(item, "kinds", None)
    if fields is not None and kinds is not None and getattr(item, "non_null", False):
        return _flat_object_list(fields, kinds)

    def flat(value: Any) -> Any:
        if value is None:
            return None
        kind = type(value)
        if kind is not list and kind is not tuple:
            raise Irregular
        return [item(each) for each in value]

    return flat


def _flat_object_list(fields: Flat, kinds: tuple[type, ...]) -> Flat:
    """A list of non-null objects of a checked type, each checked and serialised inline (the
    instalments of a schedule: two calls fewer per item)."""

    def flat(value: Any) -> Any:
        if value is None:
            return None
        kind = type(value)
        if kind is not list and kind is not tuple:
            raise Irregular
        return [fields(each) if isinstance(each, kinds) else _irregular() for each in value]

    return flat


def _irregular() -> Any:
    raise Irregular


def flat_object(object_type: GraphQLObjectType, fields: Flat) -> Flat | None:
    """An object's twin, with graphql-core's `is_type_of` check, or None when that check might
    need the resolve info the flat path does not build."""
    is_type_of = object_type.is_type_of
    if is_type_of is not None and getattr(is_type_of, "__module__", None) not in _INFO_FREE_MODULES:
        return None

    # A node type's check is an isinstance (schema/base.py `node_type`): inlined by callers.
    kinds = getattr(getattr(is_type_of, "__func__", None), "__flat_kinds__", None)

    def flat(value: Any) -> Any:
        if value is None:
            return None
        if is_type_of is not None and not is_type_of(value, _NO_INFO):
            raise Irregular
        return fields(value)

    inlined = is_type_of is None or kinds is not None
    _mark(flat, fields if inlined else None, non_null=False, kinds=kinds)
    return flat


@dataclass(frozen=True)
class LeafAttribute:
    """A field read as a plain attribute of a scalar or enum type."""

    name: str
    leaf_type: GraphQLLeafType
    non_null: bool


@dataclass(frozen=True)
class Call:
    """A field whose value comes from calling `call` on the source (a sync resolver taking the
    source alone, or an attribute getter), completed by its flat twin."""

    call: Flat
    twin: Flat


Getter = Flat | LeafAttribute | Call


@dataclass(frozen=True)
class Projection:
    """Declared by a resolver (as its `__flat_projection__`) that builds an object from its
    root's attributes alone: it answers None when `present` is None, else an object whose
    field F is the root's attribute `fields[F][0]` (`fields[F][1]` when the root has none).
    The flat path then reads those attributes where the object's fields are serialised,
    without building the object (a `Money` per amount of every instalment)."""

    present: str
    fields: Mapping[str, tuple[str, Any]]


NO_DEFAULT: Any = object()  # a projected attribute every root has


def flat_fields(getters: Sequence[tuple[str, Getter]]) -> Flat:
    """An object's selected fields, in response order, as one generated function.

    Closures per field cost a call each, several for a leaf; the generated function reads each
    attribute inline and hands strings of String and ID fields through as graphql-core does.
    """
    lines: list[str] = []
    items: list[str] = []
    names: dict[str, Any] = {"Irregular": Irregular}
    for index, (key, getter) in enumerate(getters):
        result = f"r{index}"
        items.append(f"{key!r}: {result}")
        if isinstance(getter, Call):
            lines.extend(_call_lines(getter, index, names))
            continue
        if not isinstance(getter, LeafAttribute) or not _plain_name(getter.name):
            names[f"g{index}"] = _attribute_getter(getter)
            lines.append(f"    {result} = g{index}(source)")
            continue
        lines.append(f"    v = source.{getter.name}")
        lines.extend(_leaf_lines(getter, result, str(index), names))
    source = "def flat(source):\n" + "\n".join(lines) + "\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, "<flat fields>", "exec"), names)  # noqa: S102 - our own text, no input
    flat = names["flat"]
    flat.getters = tuple(getters)  # for a parent that inlines this object (a projection)
    return cast("Flat", flat)


def _leaf_lines(
    getter: LeafAttribute, result: str, tag: str, names: dict[str, Any], indent: str = "    "
) -> list[str]:
    """`result` = the leaf value `v` serialised: inline when it has its scalar's usual type."""
    names[f"leaf{tag}"] = flat_leaf(getter.leaf_type)
    usual = _usual(getter.leaf_type)
    if usual is None:
        lines = [f"{indent}{result} = leaf{tag}(v)"]
    else:
        names[f"kind{tag}"], output = usual
        output = output.replace("LEAF", f"leaf{tag}")
        lines = [f"{indent}{result} = {output} if type(v) is kind{tag} else leaf{tag}(v)"]
    if getter.non_null:
        lines.append(f"{indent}if {result} is None:\n{indent}    raise Irregular")
    return lines


def _call_lines(getter: Call, index: int, names: dict[str, Any]) -> list[str]:
    """The call, then the twin; an object twin without a type check inlined as its fields, or
    as its fields read from the source when the call declares a projection."""
    result, fields = f"r{index}", getattr(getter.twin, "fields", None)
    when_null = "raise Irregular" if getattr(getter.twin, "non_null", False) else f"{result} = None"
    projected = _projected_lines(getter, fields, index, names, when_null)
    if projected is not None:
        return projected
    made = getattr(getter.call, "__flat_global_id__", None)
    leaf_type = getattr(getter.twin, "leaf_type", None)
    if made is not None and leaf_type is not None and leaf_type.coerce_output_value is serialize_id:
        names[f"c{index}"] = made  # a str, as the ID serialiser hands it through
        return [f"    {result} = c{index}(source.id)"]
    names[f"c{index}"] = getter.call
    if fields is None:
        names[f"t{index}"] = getter.twin
        return [f"    {result} = t{index}(c{index}(source))"]
    names[f"f{index}"] = fields
    kinds = getattr(getter.twin, "kinds", None)
    checked = []
    if kinds is not None:
        names[f"k{index}"] = kinds
        checked = [f"    elif not isinstance(v, k{index}):", "        raise Irregular"]
    return [
        f"    v = c{index}(source)",
        "    if v is None:",
        f"        {when_null}",
        *checked,
        "    else:",
        f"        {result} = f{index}(v)",
    ]


def _projected_lines(
    getter: Call, fields: Flat | None, index: int, names: dict[str, Any], when_null: str
) -> list[str] | None:
    projection = getattr(getter.call, "__flat_projection__", None)
    inner = getattr(fields, "getters", None)
    if not isinstance(projection, Projection) or inner is None:
        return None
    if getattr(getter.twin, "kinds", None) is not None:  # a type to check: build it
        return None
    leaves = [(key, sub) for key, sub in inner if isinstance(sub, LeafAttribute)]
    if len(leaves) != len(inner) or not _plain_name(projection.present):
        return None
    if any(sub.name not in projection.fields for _key, sub in leaves):
        return None
    result = f"r{index}"
    lines = [f"    v = source.{projection.present}", "    if v is None:", f"        {when_null}"]
    lines.append("    else:")
    items = []
    for number, (key, sub) in enumerate(leaves):
        attribute, default = projection.fields[sub.name]
        tag = f"{index}_{number}"
        names[f"d{tag}"] = default
        read = f"getattr(source, {attribute!r}, d{tag})"
        if default is NO_DEFAULT:
            read = f"getattr(source, {attribute!r})"
        lines.append(f"        v = {read}")
        lines.extend(_leaf_lines(sub, f"p{tag}", tag, names, indent="        "))
        items.append(f"{key!r}: p{tag}")
    lines.append(f"        {result} = {{" + ", ".join(items) + "}")
    return lines


def _attribute_getter(getter: Getter) -> Flat:
    if isinstance(getter, Call):
        return flat_call(getter.call, getter.twin)
    if not isinstance(getter, LeafAttribute):
        return getter
    leaf, read, non_null = flat_leaf(getter.leaf_type), attrgetter(getter.name), getter.non_null
    return flat_call(read, flat_non_null(leaf) if non_null else leaf)


def flat_call(call: Flat, complete: Flat) -> Flat:
    def flat(source: Any) -> Any:
        return complete(call(source))

    return flat


def constant(value: str) -> Flat:
    return lambda _source: value


def _plain_name(name: str) -> bool:
    return name.isidentifier() and not iskeyword(name)
