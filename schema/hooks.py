"""The schema extensions' hooks, entered and left without a context manager built for each.

For every request and each of its phases (operation, parsing, validation, execution) strawberry
wraps every extension's hook in a fresh `contextlib.contextmanager` (an `update_wrapper`, an
`inspect` check) and enters it on an `ExitStack`: with our ten extensions, a sixth of a small
query's CPU. Our hooks are plain generator functions (code before `yield`, code after), so a
phase here is just the generators, advanced in order and finished in reverse, with contextlib's
semantics for an exception raised inside (thrown into each generator, innermost first, which
may end it, suppressing it, or raise another). A phase with any other kind of hook (async,
a plain callable) is left to strawberry's own manager.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

Hook = Generator[None, None, None]
_NOT_GENERATOR = object()  # a hook strawberry's manager must run


_HOOKS: dict[tuple[type, str], Any] = {}


def _hook_of(kind: type, name: str) -> Any:
    """The class's own hook for a phase: None without one, `_NOT_GENERATOR` when not a plain
    generator function. Looked at once per class and phase."""
    try:
        return _HOOKS[kind, name]
    except KeyError:
        pass
    hook = getattr(kind, name)
    if hook is getattr(SchemaExtension, name):
        hook = None
    elif not inspect.isgeneratorfunction(hook):
        hook = _NOT_GENERATOR
    _HOOKS[kind, name] = hook
    return hook


class GeneratorHooks:
    """One phase's generator hooks, as `with` and `async with` run them."""

    __slots__ = ("_entered", "_hooks")

    def __init__(self, hooks: list[Callable[[], Hook]]) -> None:
        self._hooks = hooks
        self._entered: list[Hook] = []

    def __enter__(self) -> None:
        entered = self._entered
        for hook in self._hooks:
            generator = hook()
            try:
                next(generator)
            except StopIteration:
                error: BaseException = RuntimeError("generator didn't yield")
                self._leave(error)
                raise error from None
            except BaseException as raised:
                self._leave(raised)
                raise
            entered.append(generator)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        pending = self._leave(error)
        if pending is None:
            return error is not None  # a hook ended on the error: suppressed, as contextlib does
        if pending is error:
            return False
        raise pending

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self.__exit__(kind, error, tb)

    def _leave(self, error: BaseException | None) -> BaseException | None:
        """Finishes the entered generators, innermost first; the exception still going."""
        pending = error
        entered, self._entered = self._entered, []
        for generator in reversed(entered):
            try:
                if pending is None:
                    next(generator)
                else:
                    generator.throw(pending)
            except StopIteration:
                pending = None
                continue
            except BaseException as raised:
                if raised is not pending:
                    raised.__context__ = pending
                pending = raised
                continue
            stray = RuntimeError("generator didn't stop")
            stray.__context__ = pending
            pending = stray
        return pending


def _phase(
    extensions: list[SchemaExtension], name: str, fallback: type[ExtensionContextManagerBase]
) -> GeneratorHooks | ExtensionContextManagerBase:
    hooks = []
    for extension in extensions:
        hook = _hook_of(type(extension), name)
        if hook is None:
            continue
        if hook is _NOT_GENERATOR:
            return fallback(extensions)
        hooks.append(hook.__get__(extension))
    return GeneratorHooks(hooks)


class GeneratorHooksRunner(SchemaExtensionsRunner):
    """strawberry's runner with the generator-hook phases above."""

    def operation(self) -> Any:
        return _phase(self.extensions, "on_operation", OperationContextManager)

    def validation(self) -> Any:
        return _phase(self.extensions, "on_validate", ValidationContextManager)

    def parsing(self) -> Any:
        return _phase(self.extensions, "on_parse", ParsingContextManager)

    def executing(self) -> Any:
        return _phase(self.extensions, "on_execute", ExecutingContextManager)
