"""The clients' constructors are typed keyword by keyword, for type checkers and IDEs.

``mypy --strict tests/typing`` (run by CI) checks this module: the calls below must type-check,
and each ``type: ignore[arg-type]`` must still be needed (``warn_unused_ignores``), so a keyword
that loses its type (``**options: Any``) fails mypy. pytest runs it too: the calls that type-check
really construct clients, and the wrong ones really are refused.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from smsflow import AsyncSmsFlowClient, SmsFlowClient, SmsFlowValidationError


def test_typed_keywords_construct_clients() -> None:
    """Every keyword with its documented type is accepted by both clients."""
    with httpx.Client() as http:
        client = SmsFlowClient(
            "id",
            "secret",
            timeout=5,
            retry_retries=2,
            retry_max_retry_after=10.0,
            token_timeout=httpx.Timeout(3.0),
            http_client=http,
            allow_insecure_http=False,
            max_response_bytes=4096,
            sleep=lambda seconds: None,
            clock=lambda: 0.0,
            random_source=lambda: 0.5,
        )
        client.close()

    async def no_wait(seconds: float) -> None:
        return None

    async def build() -> None:
        async with AsyncSmsFlowClient("id", "secret", sleep=no_wait, limits=httpx.Limits()):
            pass

    asyncio.run(build())


def test_wrong_types_are_refused() -> None:
    """A wrong type is a mypy error and, at run time, a validation error at construction."""
    with pytest.raises(SmsFlowValidationError):
        SmsFlowClient("id", "secret", timeout="30")  # type: ignore[arg-type]
    with pytest.raises(SmsFlowValidationError):
        SmsFlowClient("id", "secret", limits=100)  # type: ignore[arg-type]
    with pytest.raises(SmsFlowValidationError):
        SmsFlowClient("id", "secret", token_store="redis")  # type: ignore[arg-type]
