"""Reading a decoded answer into the generated model of its schema, tolerantly.

:func:`read_model` runs the generated ``from_dict`` (public generated API) and then checks
every field against the type the generated class declares, so a wrong-typed value never
reaches a user as a typed attribute. Tolerant reader: an optional field (``... | Unset``)
whose value has the wrong type is left out (``UNSET``; the raw value stays in the answer's
dict); a required field that is missing or wrong raises :class:`ShapeError`. Unknown keys
land in the model's ``additional_properties``. Nothing here names a field of the spec.
"""

from __future__ import annotations

import functools
import sys
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, Final, TypeVar

__all__ = ["ShapeError", "read_model"]

M = TypeVar("M")
Check = Callable[[Any], bool]


class ShapeError(Exception):
    """A required field of a 2xx answer is missing or of the wrong type."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@functools.cache
def _is_model(cls: type) -> bool:
    """True for a generated model class (an attrs class with ``from_dict``)."""
    return hasattr(cls, "__attrs_attrs__") and hasattr(cls, "from_dict")


def _checker(hint: Any) -> Check:
    """A predicate for one declared type (the subset of typing the generator writes).

    Nested models only need ``isinstance`` here: :func:`_tolerate` checks their fields first.
    """
    from smsflow_api.types import Unset

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = tuple(_checker(arg) for arg in typing.get_args(hint))

        def union(value: Any) -> bool:
            for check in parts:  # noqa: SIM110 - a plain loop: any() with a generator is slower
                if check(value):
                    return True
            return False

        return union
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        check_item = _checker(item)
        if _is_model_type(item):
            return lambda value: isinstance(value, list) and all(isinstance(v, item) for v in value)
        return lambda value: isinstance(value, list) and all(check_item(v) for v in value)
    if origin is dict:
        return lambda value: isinstance(value, dict)
    if hint is Any:
        return lambda value: True
    if hint is type(None):
        return lambda value: value is None
    if hint is Unset:
        return lambda value: isinstance(value, Unset)
    if hint is bool:
        return lambda value: isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(hint, type):
        return lambda value: isinstance(value, hint)
    return lambda value: True  # pragma: no cover - a construct the generator does not write


class Field(typing.NamedTuple):
    """One declared field of a generated model, with what reading it needs."""

    name: str  # the attribute
    key: str  # the JSON key (camelCase)
    optional: bool  # ``... | Unset`` with a default
    check: Check
    nested: type | None  # the model class of a field that may hold one nested model
    items: type | None  # the model class of a field that may hold a list of models
    to_float: bool  # declared ``float`` (not ``int``): an int is turned into a float
    plain: frozenset[type]  # value types that pass ``check`` as they are (no model, no list)


@functools.cache
def _fields(cls: type) -> tuple[Field, ...]:
    """The declared fields of a generated model class (cached per class)."""
    import attrs  # on first use: attrs is a third of import smsflow's cost
    import smsflow_api.models
    import smsflow_api.types

    namespace = {
        **vars(sys.modules[cls.__module__]),
        **vars(smsflow_api.models),
        **vars(smsflow_api.types),
    }
    hints = typing.get_type_hints(cls, globalns=namespace)
    found = []
    for field in attrs.fields(cls):
        if field.name == "additional_properties":
            continue
        hint = hints[field.name]
        parts = typing.get_args(hint) if typing.get_origin(hint) in _UNIONS else (hint,)
        to_float = float in parts and int not in parts
        found.append(
            Field(
                name=field.name,
                key=_camel(field.name),
                optional=field.default is not attrs.NOTHING,
                check=_checker(hint),
                nested=_first(part for part in parts if _is_model_type(part)),
                items=_first(
                    typing.get_args(part)[0]
                    for part in parts
                    if typing.get_origin(part) is list and _is_model_type(typing.get_args(part)[0])
                ),
                to_float=to_float,
                plain=_plain_types(parts, to_float),
            )
        )
    return tuple(found)


_UNIONS: Final = (typing.Union, types.UnionType)


def _is_model_type(hint: Any) -> bool:
    return isinstance(hint, type) and _is_model(hint)


def _first(candidates: Iterable[type]) -> type | None:
    return next(iter(candidates), None)


def _plain_types(parts: tuple[Any, ...], to_float: bool) -> frozenset[type]:
    """The exact types among a field's declared ``parts`` that need nothing more than a type
    test: scalars, ``None`` and ``Unset`` (an int of a float field is converted: not plain)."""
    from smsflow_api.types import Unset

    scalars = (bool, int, float, str, type(None), Unset)
    return frozenset(part for part in parts if part in scalars and not (to_float and part is int))


def _leave_out(model: Any, field: Field) -> None:
    """Set an optional field whose value was wrong to ``UNSET``."""
    from smsflow_api.types import UNSET

    setattr(model, field.name, UNSET)


def _tolerate(model: Any, where: str) -> None:
    """Check ``model`` in place (see the module docstring); ints of float fields become floats.

    Raises:
        ShapeError: a required field is missing or wrong (here or in a nested model).
    """
    for field in _fields(type(model)):  # type: ignore[arg-type]
        value = getattr(model, field.name)
        kind = type(value)
        if kind in field.plain:  # the common case: a scalar of its declared type
            continue
        try:
            if kind is field.nested:
                _tolerate(value, f"{where}.{field.key}")
                continue
            if kind is list and field.items is not None:
                for position, item in enumerate(value):
                    if type(item) is not field.items:
                        break
                    _tolerate(item, f"{where}.{field.key}[{position}]")
                else:
                    continue
            elif kind is int and field.to_float:
                value = float(value)
                setattr(model, field.name, value)
        except ShapeError:
            if not field.optional:
                raise
            _leave_out(model, field)
            continue
        if field.check(value):
            continue
        if field.optional:
            _leave_out(model, field)
            continue
        raise ShapeError(f"{where}.{field.key} is {kind.__name__}, not of its type")


def read_model(cls: type[M], data: Any, where: str = "body") -> M:
    """``cls.from_dict(data)``, checked (see the module docstring).

    Raises:
        ShapeError: ``data`` is not an object, or a required field is missing or wrong.
    """
    if not isinstance(data, dict):
        raise ShapeError(f"{where} is {type(data).__name__}, expected an object")
    try:
        model = cls.from_dict(data)  # type: ignore[attr-defined]
    except _FROM_DICT_ERRORS:
        try:
            model = cls.from_dict(_without_bad_optionals(cls, data))  # type: ignore[attr-defined]
        except KeyError as missing:
            raise ShapeError(f"{where}: {missing.args[0]} is missing") from None
        except _FROM_DICT_ERRORS as exc:
            raise ShapeError(f"{where} does not have the shape of {cls.__name__} ({exc})") from None
    _tolerate(model, where)
    return typing.cast(M, model)


_FROM_DICT_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def _parses(cls: type, data: dict[str, Any]) -> bool:
    try:
        cls.from_dict(data)  # type: ignore[attr-defined]
    except _FROM_DICT_ERRORS:
        return False
    return True


def _without_bad_optionals(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the optional keys that make ``from_dict`` fail (a slow path, taken
    only when the answer is malformed); nested required objects are cleaned the same way."""
    cleaned = dict(data)
    optional_keys = set()
    for field in _fields(cls):
        if field.optional:
            optional_keys.add(field.key)
        elif field.nested is not None and isinstance(cleaned.get(field.key), dict):
            cleaned[field.key] = _without_bad_optionals(field.nested, cleaned[field.key])
    base = {k: v for k, v in cleaned.items() if k not in optional_keys}
    for key in optional_keys & cleaned.keys():
        if not _parses(cls, {**base, key: cleaned[key]}):
            del cleaned[key]
    return cleaned
