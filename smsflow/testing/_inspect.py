"""Inspection of a running sandbox over HTTP: what it received and accepted (no secrets).

``GET /_sandbox/messages`` -> ``{"count": N, "messages": [{"event_id", "destination",
"content", "parts", "campaign", "scheduled_for"}, ...]}`` (accepted messages, in order);
``GET /_sandbox/requests`` -> ``{"count": N, "requests": [{"method", "path", "status",
"answered", "time"}, ...]}``; ``GET /_sandbox/opt-outs`` -> ``{"opt_outs": [...]}``.
These paths need no token (the sandbox holds test data only), are not part of the SMSFlow
API, and are not recorded as requests. :func:`request_line` is the ``--log`` line of one
request: method, path, status and time, never a header or a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ._replies import SandboxReply, error_reply, json_reply

if TYPE_CHECKING:
    from ._sandbox import Sandbox

__all__ = ["PREFIX", "inspection_reply", "request_line"]

PREFIX: Final = "/_sandbox/"


def inspection_reply(sandbox: Sandbox, method: str, path: str) -> SandboxReply:
    """The answer to a ``GET /_sandbox/...`` request (404/405 for anything else under it)."""
    name = path.removeprefix(PREFIX).rstrip("/")
    if name not in ("messages", "requests", "opt-outs"):
        return error_reply(404, "NOT_FOUND", f"No such sandbox path: {path[:200]}")
    if method not in ("GET", "HEAD"):
        return error_reply(405, "METHOD_NOT_ALLOWED", "Use GET.")
    if name == "messages":
        messages = [
            {
                "event_id": m.event_id,
                "destination": m.destination,
                "content": m.content,
                "parts": m.parts,
                "campaign": m.campaign,
                "scheduled_for": m.scheduled_for.isoformat() if m.scheduled_for else None,
            }
            for m in sandbox.messages
        ]
        return json_reply(200, {"count": len(messages), "messages": messages})
    if name == "requests":
        requests = [
            {
                "method": r.method,
                "path": r.path,
                "status": r.status,
                "answered": r.answered,
                "time": r.time,
            }
            for r in sandbox.requests
        ]
        return json_reply(200, {"count": len(requests), "requests": requests})
    return json_reply(200, {"opt_outs": sorted(sandbox.opt_outs)})


def request_line(method: str, path: str, headers: Mapping[str, str], reply: SandboxReply) -> str:
    """One log line for a request: never a header, a token or a body."""
    status = reply.status if reply.answered else "dropped"
    fault = f" (fault: {reply.fault})" if reply.fault else ""
    return f"{method} {path.split('?', 1)[0]} -> {status}{fault}"
