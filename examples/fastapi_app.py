"""Recipe: send an SMS from a FastAPI endpoint.

One :class:`smsflow.AsyncSmsFlowClient` per application, opened by the lifespan and closed
with it, handed to endpoints as a dependency. Credentials come from ``SMSFLOW_CLIENT_ID`` and
``SMSFLOW_CLIENT_SECRET`` (``SMSFLOW_BASE_URL`` for the sandbox). Tests pass
``client_factory=sandbox.async_client`` to run the app against the in-process sandbox.

Try it against the sandbox (``smsflow sandbox --port 8025`` in another shell)::

    uvicorn --factory fastapi_app:create_app   # from examples/, with uvicorn installed

``tests/test_recipes.py`` runs this module against the sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

import smsflow


class Alert(BaseModel):
    """The request body: the customer's phone number as they typed it."""

    phone: str


class Sent(BaseModel):
    """The answer: the send's eventId (store it with the order) and SMS parts billed."""

    event_id: int
    parts: int


def sms(request: Request) -> smsflow.AsyncSmsFlowClient:
    """Dependency: the application's one client."""
    client: smsflow.AsyncSmsFlowClient = request.app.state.sms
    return client


def create_app(
    client_factory: Callable[[], smsflow.AsyncSmsFlowClient] = smsflow.AsyncSmsFlowClient,
) -> FastAPI:
    """The application; ``client_factory`` makes its client (default: from the environment)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with client_factory() as client:
            app.state.sms = client
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/orders/{order}/dispatch-alert")
    async def dispatch_alert(
        order: int, alert: Alert, client: Annotated[smsflow.AsyncSmsFlowClient, Depends(sms)]
    ) -> Sent:
        """Tell the customer their order shipped (400: bad number; 502/503: not confirmed)."""
        try:
            result = await client.send_sms(
                "Order dispatch alerts",
                [{"destination": alert.phone, "content": f"Order {order} has shipped."}],
                normalize_destinations=True,
            )
        except smsflow.SmsFlowValidationError as exc:  # bad input: nothing was sent
            raise HTTPException(400, {"error": exc.code, "detail": str(exc)}) from exc
        except smsflow.SmsFlowError as exc:  # outcome_unknown: it may have gone out
            status = 502 if exc.outcome_unknown else 503
            detail = {"error": exc.code, "outcome_unknown": exc.outcome_unknown}
            raise HTTPException(status, detail) from exc
        return Sent(event_id=result.event_id, parts=result.send_response.parts)

    return app
