"""schema/hooks.py runs extension hooks as strawberry's context managers do: same order, same
handling of an exception raised inside a phase."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import OperationContextManager

from schema.hooks import GeneratorHooks, GeneratorHooksRunner


class Recorder(SchemaExtension):
    def __init__(self, name: str, seen: list[str], *, swallow: bool = False) -> None:
        self.name, self.seen, self.swallow = name, seen, swallow

    def on_operation(self) -> Iterator[None]:
        self.seen.append(f"enter {self.name}")
        try:
            yield
        except ValueError as error:
            self.seen.append(f"{self.name} saw {error}")
            if not self.swallow:
                raise
        self.seen.append(f"leave {self.name}")


class Plain(SchemaExtension):
    def on_operation(self) -> None:  # type: ignore[override]  # a callable hook, not a generator
        pass


def runner(*extensions: SchemaExtension) -> GeneratorHooksRunner:
    return GeneratorHooksRunner(execution_context=None, extensions=list(extensions))  # type: ignore[arg-type]


async def test_hooks_are_entered_in_order_and_left_in_reverse() -> None:
    seen: list[str] = []
    async with runner(Recorder("a", seen), Recorder("b", seen)).operation():
        seen.append("work")
    assert seen == ["enter a", "enter b", "work", "leave b", "leave a"]


def test_an_error_inside_goes_through_every_hook_innermost_first() -> None:
    seen: list[str] = []
    with (
        pytest.raises(ValueError, match="boom"),
        runner(Recorder("a", seen), Recorder("b", seen)).operation(),
    ):
        raise ValueError("boom")
    assert seen == ["enter a", "enter b", "b saw boom", "a saw boom"]


def test_a_hook_that_ends_on_the_error_suppresses_it_for_the_outer_ones() -> None:
    seen: list[str] = []
    with runner(Recorder("a", seen), Recorder("b", seen, swallow=True)).operation():
        raise ValueError("boom")
    assert seen == ["enter a", "enter b", "b saw boom", "leave b", "leave a"]


def test_a_phase_with_a_hook_that_is_not_a_generator_is_strawberrys() -> None:
    seen: list[str] = []
    assert isinstance(runner(Recorder("a", seen)).operation(), GeneratorHooks)
    assert isinstance(runner(Recorder("a", seen), Plain()).operation(), OperationContextManager)
    assert isinstance(runner(Recorder("a", seen)).parsing(), GeneratorHooks)  # no hooks: empty
