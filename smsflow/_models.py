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
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ShapeError", "read_model"]

M = TypeVar("M")
Check = Callable[[Any], bool]


class ShapeError(Exception):
    """A required field of a 2xx answer is missing or of the wrong type."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _checker(hint: Any) -> Check:
    """A predicate for one declared type (the subset of typing the generator writes)."""
    import attrs  # on first use: attrs is a third of import smsflow's cost
    from smsflow_api.types import Unset

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_checker(arg) for arg in typing.get_args(hint)]
        return lambda value: any(check(value) for check in parts)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        check_item = _checker(item)
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
    if isinstance(hint, type) and attrs.has(hint):
        fields = _fields(hint)
        return lambda value: isinstance(value, hint) and _valid(value, fields)
    if isinstance(hint, type):
        return lambda value: isinstance(value, hint)
    return lambda value: True  # pragma: no cover - a construct the generator does not write


Field = tuple[str, bool, Check, "type | None"]


def _valid(model: Any, fields: tuple[Field, ...]) -> bool:
    return all(check(getattr(model, name)) for name, _, check, _ in fields)


@functools.cache
def _fields(cls: type) -> tuple[Field, ...]:
    """``(name, optional, check, model class)`` of each declared field of a generated model
    class (the model class when the field holds a nested model, else ``None``)."""
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
        optional = field.default is not attrs.NOTHING
        hint = hints[field.name]
        nested = hint if isinstance(hint, type) and attrs.has(hint) else None
        found.append((field.name, optional, _checker(hint), nested))
    return tuple(found)


def _tolerate(model: Any, where: str) -> None:
    """Check ``model`` in place (see the module docstring); ints of float fields become floats.

    Raises:
        ShapeError: a required field is missing or wrong (here or in a nested model).
    """
    from smsflow_api.types import UNSET

    for name, optional, check, _ in _fields(type(model)):  # type: ignore[arg-type]
        value = getattr(model, name)
        try:
            value = _settle(value, f"{where}.{_camel(name)}", name, model)
        except ShapeError:
            if not optional:
                raise
            setattr(model, name, UNSET)
            continue
        if check(value):
            continue
        if optional:
            setattr(model, name, UNSET)
            continue
        raise ShapeError(f"{where}.{_camel(name)} is {type(value).__name__}, not of its type")


def _settle(value: Any, where: str, name: str, owner: Any) -> Any:
    """Check nested models (and lists of them) in place; turn an int into a float where the
    field is declared ``float``. Returns the (possibly converted) value."""
    import attrs  # on first use: attrs is a third of import smsflow's cost

    if attrs.has(type(value)):
        _tolerate(value, where)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            if attrs.has(type(item)):
                _tolerate(item, f"{where}[{position}]")
    elif (
        isinstance(value, int) and not isinstance(value, bool) and name in _floats(type(owner))  # type: ignore[arg-type]
    ):
        value = float(value)
        setattr(owner, name, value)
    return value


@functools.cache
def _floats(cls: type) -> frozenset[str]:
    """The fields of ``cls`` declared ``float`` (and not ``int``)."""
    import smsflow_api.models
    import smsflow_api.types

    namespace = {
        **vars(sys.modules[cls.__module__]),
        **vars(smsflow_api.models),
        **vars(smsflow_api.types),
    }
    hints = typing.get_type_hints(cls, globalns=namespace)
    found = set()
    for name, hint in hints.items():
        parts = typing.get_args(hint) if typing.get_origin(hint) else (hint,)
        if float in parts and int not in parts:
            found.add(name)
    return frozenset(found)


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
    fields = _fields(cls)
    cleaned = dict(data)
    optional_keys = set()
    for name, optional, _, nested in fields:
        key = _camel(name)
        if optional:
            optional_keys.add(key)
        elif nested is not None and isinstance(cleaned.get(key), dict):
            cleaned[key] = _without_bad_optionals(nested, cleaned[key])
    base = {k: v for k, v in cleaned.items() if k not in optional_keys}
    for key in optional_keys & cleaned.keys():
        if not _parses(cls, {**base, key: cleaned[key]}):
            del cleaned[key]
    return cleaned
