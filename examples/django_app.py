"""Recipe: send an SMS from a Django view.

One :class:`smsflow.SmsFlowClient` per process (it is thread-safe and pools connections),
created on first use and closed at exit. Credentials come from ``SMSFLOW_CLIENT_ID`` and
``SMSFLOW_CLIENT_SECRET`` (``SMSFLOW_BASE_URL`` for the sandbox). In a project, put
``sms_client`` in a module of your app and ``urlpatterns`` in its ``urls.py``.

Try it against the sandbox (``smsflow sandbox --port 8025`` in another shell)::

    python examples/django_app.py runserver 8000
    curl -X POST localhost:8000/orders/1001/dispatch-alert -d '{"phone": "082 123 4567"}'

``tests/test_recipes.py`` runs this module against the sandbox.
"""

from __future__ import annotations

import atexit
import json
import sys
from functools import cache

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

import smsflow


@cache
def sms_client() -> smsflow.SmsFlowClient:
    """The process's one client (raises ``SmsFlowAuthenticationError`` without credentials)."""
    client = smsflow.SmsFlowClient(timeout=10, retry_retries=2)
    atexit.register(client.close)
    return client


@csrf_exempt  # an API endpoint called by your own services; keep CSRF for browser forms
@require_POST
def dispatch_alert(request: HttpRequest, order: int) -> JsonResponse:
    """Tell the customer their order shipped: 200 with the eventId, or 400/502/503."""
    phone = json.loads(request.body or b"{}").get("phone", "")
    try:
        result = sms_client().send_sms(
            "Order dispatch alerts",
            [{"destination": phone, "content": f"Order {order} has shipped."}],
            normalize_destinations=True,  # "082 123 4567" -> "27821234567"
        )
    except smsflow.SmsFlowValidationError as exc:  # bad input: nothing was sent
        return JsonResponse({"error": exc.code, "detail": str(exc)}, status=400)
    except smsflow.SmsFlowError as exc:
        # outcome_unknown: it may have gone out; record that and do not resend blindly.
        body = {"error": exc.code, "outcome_unknown": exc.outcome_unknown}
        return JsonResponse(body, status=502 if exc.outcome_unknown else 503)
    return JsonResponse({"event_id": result.event_id, "parts": result.send_response.parts})


urlpatterns = [path("orders/<int:order>/dispatch-alert", dispatch_alert)]


if __name__ == "__main__":
    from django.conf import settings
    from django.core.management import execute_from_command_line

    settings.configure(DEBUG=True, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["localhost"])
    execute_from_command_line(sys.argv)
