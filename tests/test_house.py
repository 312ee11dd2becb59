"""House rules of the public surface: declared attributes, typed signatures, a clean ``dir``,
and ``import smsflow`` without the bulk machinery."""

from __future__ import annotations

import pickle

import smsflow


def test_before_request_is_a_declared_attribute_that_survives_pickling() -> None:
    """Every SmsFlowError says whether it failed before its request was sent (False unless
    given), and keeps it through pickling (errors cross process boundaries in task queues)."""
    error = smsflow.SmsFlowNetworkError("no route", code="CONNECT_FAILED", before_request=True)
    assert (False, True) == (smsflow.SmsFlowError("x").before_request, error.before_request)
    assert pickle.loads(pickle.dumps(error)).before_request is True  # noqa: S301 - our own
    assert "before_request" in smsflow.SmsFlowError.__init__.__annotations__
