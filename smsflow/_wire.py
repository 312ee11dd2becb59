"""Where each operation of the spec lives (method and path), learnt from the generated client.

The generated endpoint modules are asked through their public ``sync_detailed`` functions,
once per process, with a generated ``Client`` whose transport records the request and answers
nothing: no network, no private generated API. A path or method changed in the spec therefore
reaches both clients after ``scripts/regenerate`` with no wrapper edit. The send is probed
with a body built from the generated models (one message); only its method and URL are kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

import httpx

__all__ = ["Route", "route"]

_PROBE_BASE: Final = "http://wire.invalid"


class _ProbedError(Exception):
    """Raised by the recording transport to stop the generated call after the request."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__(request.method)
        self.request = request


class _Recorder(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise _ProbedError(request)


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


def _probe(call: Callable[..., Any], **kwargs: Any) -> Route:
    from smsflow_api import Client

    client = Client(base_url=_PROBE_BASE, httpx_args={"transport": _Recorder()})
    try:
        call(client=client, **kwargs)
    except _ProbedError as probed:
        request = probed.request
        return Route((request.method.upper(), request.url.raw_path.decode("ascii")))
    finally:
        client.get_httpx_client().close()
    raise RuntimeError(f"smsflow: {call.__module__} sent no request")  # pragma: no cover


@functools.cache
def route(operation_id: str) -> Route:
    """The method and path of the spec's operation ``operation_id`` (cached).

    Raises:
        KeyError: the generated client has no such operation (regenerate, or fix the wrapper).
    """
    if operation_id == "get_token":
        from smsflow_api.api.authentication import get_token

        return _probe(get_token.sync_detailed)
    if operation_id == "get_balance":
        from smsflow_api.api.balance import get_balance

        return _probe(get_balance.sync_detailed)
    if operation_id == "send_messages":
        from smsflow_api.api.messages import send_messages
        from smsflow_api.models import Message, SendMessagesRequest, SendOptions

        body = SendMessagesRequest(
            send_options=SendOptions(
                start_delivery_utc=None, campaign_name="probe", check_opt_outs=True
            ),
            messages=[Message(content="probe", destination="27000000000")],
        )
        return _probe(send_messages.sync_detailed, body=body)
    raise KeyError(operation_id)
