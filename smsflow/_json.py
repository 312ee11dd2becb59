"""The one JSON decoder of answers: never raises anything but ``ValueError``.

``json.loads`` as the answers need it: a body nested deeper than the interpreter's recursion
limit (``[[[[...]]]]``) is refused with :class:`JsonTooDeepError` instead of escaping as a
``RecursionError``; ``NaN``, ``Infinity`` and numbers that overflow a float (``1e400``) are
refused (they are not JSON numbers the spec allows, and money must be finite).
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

__all__ = ["JsonTooDeepError", "loads"]


class JsonTooDeepError(ValueError):
    """The JSON is nested too deeply to decode."""


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def loads(content: bytes | str) -> Any:
    """Decode one JSON document.

    Raises:
        JsonTooDeepError: nested deeper than the recursion limit.
        ValueError: not JSON (``json.JSONDecodeError``), not UTF-8, ``NaN``/``Infinity``, or
            a number outside the float range.
    """
    try:
        return json.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise JsonTooDeepError("the JSON is nested too deeply") from None
