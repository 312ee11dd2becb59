"""The vendor's "local test send": one SMS to $SMSFLOW_DESTINATION.

    export SMSFLOW_CLIENT_ID="YOUR_CLIENT_ID"
    export SMSFLOW_CLIENT_SECRET="YOUR_CLIENT_SECRET"
    export SMSFLOW_DESTINATION="27000000000"
    python examples/send_sms.py

Sends a real SMS (and may consume credits) unless SMSFLOW_BASE_URL points at a sandbox,
e.g. one started with ``smsflow sandbox --port 8025``.
"""

from __future__ import annotations

import os
import sys

from smsflow import SmsFlowClient, SmsFlowError


def main() -> int:
    """Send one test SMS; print its event id. Returns the process exit code."""
    destination = os.environ.get("SMSFLOW_DESTINATION", "27000000000")
    try:
        with SmsFlowClient(timeout=30) as client:
            response = client.send_sms(
                campaign_name="Python SDK example",
                messages=[
                    {
                        "destination": destination,
                        "content": "Your SMSFlow Python test message was sent successfully.",
                    }
                ],
            )
    except SmsFlowError as exc:
        print(f"send failed: {exc}", file=sys.stderr)
        return 1
    print(response["sendResponse"]["eventId"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
