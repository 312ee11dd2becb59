"""Where each operation of the spec lives (method and path), read from the generated client.

Each generated tag package (``smsflow_api.api.<tag>``) carries ``ROUTES``, operation id ->
``(METHOD, path)``, written by the generator from the spec (``spec/templates/
endpoint_init.py.jinja``): public generated API, no probing, no dummy bodies. A path or method
changed in the spec reaches both clients after ``scripts/regenerate`` with no wrapper edit.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping

__all__ = ["Route", "route", "routes"]


class Route(tuple[str, str]):
    """``(method, path)`` of one operation (method upper case, path from the base URL)."""

    __slots__ = ()

    @property
    def method(self) -> str:
        """The HTTP method, upper case."""
        return self[0]

    @property
    def path(self) -> str:
        """The path, to append to the base URL."""
        return self[1]


@functools.cache
def routes() -> Mapping[str, Route]:
    """Every operation of the generated client: operation id -> :class:`Route` (cached).

    Raises:
        RuntimeError: two tags declare one operation id (the spec is wrong).
    """
    import smsflow_api.api

    found: dict[str, Route] = {}
    for tag in pkgutil.iter_modules(smsflow_api.api.__path__, "smsflow_api.api."):
        table: Mapping[str, tuple[str, str]] = importlib.import_module(tag.name).ROUTES
        for operation_id, (method, path) in table.items():
            if operation_id in found:  # pragma: no cover - the generator refuses this too
                raise RuntimeError(f"smsflow: operation {operation_id!r} is declared twice")
            found[operation_id] = Route((method, path))
    return found


def route(operation_id: str) -> Route:
    """The method and path of the spec's operation ``operation_id``.

    Raises:
        KeyError: the generated client has no such operation (regenerate, or fix the wrapper).
    """
    try:
        return routes()[operation_id]
    except KeyError:
        raise KeyError(
            f"{operation_id!r} is not an operation of the generated client "
            f"({', '.join(sorted(routes()))}): run scripts/regenerate, or fix the caller"
        ) from None
