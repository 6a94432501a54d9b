"""How the config's types are checked without importing pydantic until something is checked.

The sections of feeds.yaml (`Config` and the types it is made of, in config.py, fetch.py,
events.py, pages.py, relevance.py) are plain frozen dataclasses. pydantic validates a stdlib
dataclass through a `TypeAdapter`, reading its `__pydantic_config__` and the metadata of its
fields' `Annotated` types; the metadata here (`Before`, `After`, `Limits`) says what to check
and builds its part of the validator only when pydantic asks (`__get_pydantic_core_schema__`).
So a config read from the cache (config.py `_cached_config`: the dataclasses themselves) never
imports pydantic, which is about half of a command's start-up (issue 9).

`validate(kind, data)` is the one way in from untrusted data: it raises
`pydantic.ValidationError`. Calling a dataclass directly checks nothing (defaults, tests), and
`dataclasses.replace` makes a changed copy (unchecked too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

T = TypeVar("T")

# A dataclass's `__pydantic_config__`: a key it does not have is an error, not ignored.
FORBID_EXTRA: dict[str, Any] = {"extra": "forbid"}


class Before:
    """Run `func(value)` on the raw input before the type is checked (it may convert it)."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self.func, handler(source))


class After:
    """Run `func(value)` on the checked value (raise ValueError to refuse it); with
    `info=True`, `func(value, info)`: `info.data` holds the fields checked before this one."""

    def __init__(self, func: Callable[..., Any], *, info: bool = False) -> None:
        self.func = func
        self.info = info

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        from pydantic_core import core_schema

        if self.info:
            return core_schema.with_info_after_validator_function(self.func, handler(source))
        return core_schema.no_info_after_validator_function(self.func, handler(source))


class Limits:
    """Bounds of a number (gt, ge, le) or a string's length (min_length, max_length), as
    pydantic's `Field(...)` takes them and with its messages; on `X | None`, they bound X."""

    def __init__(self, **limits: float) -> None:
        self.limits = limits

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        schema: CoreSchema = handler(source)
        inner: Any = schema["schema"] if schema["type"] == "nullable" else schema
        if inner["type"] not in ("int", "float", "str"):
            raise TypeError(f"Limits apply to int, float or str, not {inner['type']}")
        inner.update(self.limits)
        return schema


_adapters: dict[Any, Any] = {}


def validate(kind: type[T], data: Any) -> T:
    """`data` (dicts, lists, scalars as YAML gives them) checked and turned into `kind`, a
    config dataclass; raises pydantic.ValidationError listing every problem."""
    adapter = _adapters.get(kind)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _adapters[kind] = TypeAdapter(kind)
    result: T = adapter.validate_python(data)
    return result
