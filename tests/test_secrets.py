"""Secrets and personal data: a planted client secret and the tokens issued for it never appear
in logs (every logger at DEBUG), in ``repr()`` of the SDK's objects, in exception messages,
``repr``s, bodies, pickles or tracebacks, or in the command line's output; phone numbers and
message bodies never appear in logs.

The scenarios run against a real loopback :class:`SandboxServer` (so httpx's and httpcore's own
DEBUG logs are included) through both clients, on the happy path, a revoked token, and every
kind of fault. :class:`Detector` looks for each secret, its HTTP Basic form, and any
12-character piece of it. ``test_detector_catches_planted_leaks`` plants leaks (a careless
debug line, a repr, an exception message) into the same scenario and proves the detector
reports each of them: the main test would fail if a secret were logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import pickle
import re
import secrets
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import pytest
from contract.observer import ContractObserver

from smsflow import AsyncSmsFlowClient, SmsFlowClient, SmsFlowError
from smsflow._auth import TokenCache
from smsflow.testing import Sandbox, SandboxReply, SandboxServer

CLIENT_ID: Final = "secrets-test-client"
DESTINATION: Final = "27821234599"
NATIONAL: Final = "082 123 4599"
WINDOW: Final = 12  # a leak of any 12 consecutive characters of a secret is a leak


@dataclass
class Planted:
    """The secrets of one test run: a unique client secret, and the tokens issued for it."""

    secret: str = field(default_factory=lambda: "planted-" + secrets.token_hex(16))
    wrong_secret: str = field(default_factory=lambda: "wrong-" + secrets.token_hex(16))
    content: str = field(default_factory=lambda: "Body " + secrets.token_hex(8) + " text")
    tokens: list[str] = field(default_factory=list)

    def observe(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        """Sandbox observer: remember every token the sandbox issues."""
        if path.startswith("/api/integration/authentication") and reply.status == 200:
            try:
                token = json.loads(reply.body).get("token")
            except (ValueError, AttributeError):
                return
            if isinstance(token, str):
                self.tokens.append(token)


class Detector:
    """Finds secrets (whole, HTTP Basic-encoded, or any 12-character piece) in text."""

    def __init__(self, planted: Planted) -> None:
        needles: dict[str, str] = {}
        for name, value in (
            ("client secret", planted.secret),
            ("wrong secret", planted.wrong_secret),
        ):
            basic = base64.b64encode(f"{CLIENT_ID}:{value}".encode()).decode()
            needles[basic] = f"{name} (HTTP Basic)"
            for start in range(len(value) - WINDOW + 1):
                needles[value[start : start + WINDOW]] = name
        for index, token in enumerate(planted.tokens):
            for start in range(len(token) - WINDOW + 1):
                needles[token[start : start + WINDOW]] = f"token #{index}"
        self.needles = needles
        assert planted.tokens, "the scenario issued no token: nothing to look for"

    def leaks(self, exhibits: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """``(what leaked, where)`` for every secret found in the exhibits."""
        found = set()
        for where, text in exhibits:
            for needle, name in self.needles.items():
                if needle in text:
                    found.add((name, where))
        return found


class LogCapture(logging.Handler):
    """Every record of every logger, formatted with its traceback, and its raw arguments."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " args=" + repr(record.args))


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Capture all logging at DEBUG (root and the ``smsflow`` logger) during the test."""
    capture = LogCapture()
    root, ours = logging.getLogger(), logging.getLogger("smsflow")
    levels = (root.level, ours.level)
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    ours.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])


@pytest.fixture
def planted() -> Planted:
    return Planted()


@pytest.fixture
def server(planted: Planted, contract_observer: ContractObserver) -> Iterator[SandboxServer]:
    """A loopback sandbox whose client secret is the planted one."""
    sandbox = Sandbox(CLIENT_ID, planted.secret, observer=planted.observe)
    # Answers off the spec on purpose below (a broken token answer): not contract-checked.
    sandbox.remove_observer(contract_observer)
    with SandboxServer(sandbox) as running:
        yield running


def error_exhibits(where: str, error: SmsFlowError) -> list[tuple[str, str]]:
    """Everything a user or a framework might print or store of an error."""
    texts = [
        ("str", str(error)),
        ("repr", repr(error)),
        ("message", error.message),
        ("body", repr(error.body)),
        ("args", repr(error.args)),
        ("traceback", "".join(traceback.format_exception(error))),
        ("pickle", pickle.dumps(error).decode("latin-1")),
        ("request", repr(error.request)),
        ("request headers", repr(error.request.headers) if error.request is not None else ""),
        ("response", repr(error.response)),
    ]
    return [(f"{where}: {name}", text) for name, text in texts]


Fault = Callable[[Sandbox], None]


def on(endpoint: str, method: str, **options: Any) -> Fault:
    """Inject the sandbox fault ``method`` (e.g. ``"fail_next"``) into ``endpoint``."""
    return lambda sandbox: getattr(sandbox, method)(endpoint=endpoint, **options)


def faults(planted: Planted) -> list[tuple[str, str, Fault]]:
    """(name, operation, injection) of every fault the scenarios go through."""
    leaked_token = "leaky" + secrets.token_hex(12)
    planted.tokens.append(leaked_token)
    broken_token = json.dumps({"token": leaked_token}).encode()
    token_error = json.dumps(
        {"statusCode": 400, "errors": [{"code": "BAD", "message": leaked_token}]}
    ).encode()
    cases: list[tuple[str, str, Fault]] = [
        ("token 503", "authenticate", lambda s: s.fail_next(endpoint="token", status=503)),
        ("token 401", "authenticate", lambda s: s.fail_next(endpoint="token", status=401)),
        (
            "token broken",
            "authenticate",
            lambda s: s.malformed_next(endpoint="token", body=broken_token),
        ),
        (
            "token error naming a token",
            "authenticate",
            lambda s: s.malformed_next(endpoint="token", status=400, body=token_error),
        ),
        ("token dropped", "authenticate", lambda s: s.drop_next(endpoint="token")),
        ("revoked token", "get_balance", lambda s: s.revoke_tokens()),
    ]
    for endpoint, op in (("balance", "get_balance"), ("send", "send_sms")):
        cases += [
            (f"{endpoint} 400", op, on(endpoint, "fail_next", status=400)),
            (f"{endpoint} 503", op, on(endpoint, "fail_next", status=503)),
            (f"{endpoint} html", op, on(endpoint, "html_next")),
            (f"{endpoint} malformed", op, on(endpoint, "malformed_next")),
            (f"{endpoint} truncated", op, on(endpoint, "truncate_next")),
            (f"{endpoint} dropped", op, on(endpoint, "drop_next")),
            (f"{endpoint} reset", op, on(endpoint, "reset_next")),
            (f"{endpoint} late", op, on(endpoint, "delay_next", seconds=0.4)),
        ]
    return cases


def messages(planted: Planted) -> list[dict[str, str]]:
    return [{"destination": DESTINATION, "content": planted.content}]


def sync_scenario(server: SandboxServer, planted: Planted) -> list[tuple[str, str]]:
    """The happy path, a revoked token and every fault through SmsFlowClient; what to scan."""
    sandbox = server.sandbox
    seen: list[tuple[str, str]] = []
    options: dict[str, Any] = {"timeout": 0.2, "retry_retries": 0}
    with SmsFlowClient(CLIENT_ID, planted.secret, server.url, **options) as client:
        token = client.authenticate()
        balance = client.get_balance()
        result = client.send_sms("Secrets", messages(planted))
        seen += [("repr(client)", repr(client)), ("repr(vars(client))", repr(vars(client)))]
        seen += [("AuthToken", repr(token) + str(token)), ("Balance", repr(balance))]
        seen += [("SendResult", repr(result)), ("cached Token", repr(client._cache.fresh()))]
        for name, op, inject in faults(planted):
            inject(sandbox)
            try:
                getattr(client, op)(*(("Secrets", messages(planted)) if op == "send_sms" else ()))
            except SmsFlowError as error:
                seen += error_exhibits(f"sync {name}", error)
    with SmsFlowClient(CLIENT_ID, planted.wrong_secret, server.url, timeout=1) as wrong:
        try:
            wrong.get_balance()
        except SmsFlowError as error:
            seen += error_exhibits("sync wrong secret", error)
        seen.append(("repr(wrong client)", repr(wrong)))
    return seen


def async_scenario(server: SandboxServer, planted: Planted) -> list[tuple[str, str]]:
    """The same through AsyncSmsFlowClient."""
    sandbox = server.sandbox
    seen: list[tuple[str, str]] = []

    async def main() -> None:
        async with AsyncSmsFlowClient(CLIENT_ID, planted.secret, server.url, timeout=0.2) as client:
            token = await client.authenticate()
            await client.get_balance()
            await client.send_sms("Secrets", messages(planted))
            seen.extend([("async repr(client)", repr(client)), ("async AuthToken", repr(token))])
            for name, op, inject in faults(planted):
                inject(sandbox)
                args = ("Secrets", messages(planted)) if op == "send_sms" else ()
                try:
                    await getattr(client, op)(*args)
                except SmsFlowError as error:
                    seen.extend(error_exhibits(f"async {name}", error))
        async with AsyncSmsFlowClient(CLIENT_ID, planted.wrong_secret, server.url) as wrong:
            try:
                await wrong.authenticate()
            except SmsFlowError as error:
                seen.extend(error_exhibits("async wrong secret", error))

    asyncio.run(main())
    return seen


def cli_output(server: SandboxServer, planted: Planted) -> list[tuple[str, str]]:
    """The command line's stdout and stderr: a --debug send, then a refused secret (one line),
    then a refused secret with --debug (logs and a traceback)."""
    script = (
        "import sys, traceback\n"
        "from smsflow._cli import main\n"
        "for argv, secret in (\n"
        f"    (['--debug', '--no-token-cache', '--json', 'send', '--to', {NATIONAL!r},"
        f"      '--message', {planted.content!r}], {planted.secret!r}),\n"
        f"    (['--no-token-cache', 'balance'], {planted.wrong_secret!r}),\n"
        f"    (['--debug', '--no-token-cache', 'balance'], {planted.wrong_secret!r}),\n"
        "):\n"
        "    import os; os.environ['SMSFLOW_CLIENT_SECRET'] = secret\n"
        "    try:\n"
        "        print('exit', main(argv), flush=True)\n"
        "    except Exception:\n"
        "        traceback.print_exc()\n"
    )
    env = {
        **os.environ,
        "SMSFLOW_CLIENT_ID": CLIENT_ID,
        "SMSFLOW_BASE_URL": server.url,
        "SMSFLOW_LOG": "",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert "exit 0" in done.stdout, done.stderr  # the send worked
    assert "AUTHENTICATION_FAILED" in done.stderr  # the refusal was reported
    assert "Traceback" in done.stderr  # the --debug run printed one
    return [("cli stdout", done.stdout), ("cli stderr", done.stderr)]


def test_no_secret_in_logs_reprs_errors_tracebacks_or_cli_output(
    server: SandboxServer, planted: Planted, logs: LogCapture
) -> None:
    """The planted secret and every issued token appear nowhere a user or a log can see."""
    exhibits = sync_scenario(server, planted) + async_scenario(server, planted)
    exhibits += cli_output(server, planted)
    exhibits += [(f"log line {i}", line) for i, line in enumerate(logs.lines)]
    assert len(planted.tokens) >= 4  # tokens were issued (and one planted in a broken answer)
    assert any("/api/integration/BulkMessages" in line for line in logs.lines)  # logging was on
    assert any(line.startswith("httpcore") for line in logs.lines)  # down to the socket level
    assert set() == Detector(planted).leaks(exhibits)


def test_logs_mask_phone_numbers_and_never_hold_message_bodies(
    server: SandboxServer, planted: Planted, logs: LogCapture
) -> None:
    """No log line holds a whole destination or any message text (DEBUG, every logger)."""
    sync_scenario(server, planted)
    text = "\n".join(logs.lines)
    assert DESTINATION not in text
    assert planted.content not in text
    assert planted.content.split()[1] not in text  # not even the random middle of it


def test_each_attempt_is_logged_with_method_path_status_duration_and_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The ``smsflow`` logger writes one DEBUG line per token fetch and per attempt, and a
    WARNING per retry."""
    sandbox = Sandbox()
    sandbox.fail_next(endpoint="balance", status=503)
    caplog.set_level(logging.DEBUG, logger="smsflow")
    with sandbox.client(retry_retries=1, sleep=lambda s: None, random_source=lambda: 0.0) as client:
        client.get_balance()
    ours = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name == "smsflow"]
    line = r"GET /api/integration/Balance -> {status} in \d+\.\d ms \(attempt {attempt}\)"
    assert 4 == len(ours), ours
    assert ("smsflow", "DEBUG", "token fetched (valid for 7200 s)") == ours[0]
    assert re.fullmatch(line.format(status=503, attempt=1) + ": SERVICE_UNAVAILABLE", ours[1][2])
    assert ("smsflow", "WARNING") == ours[2][:2]
    assert "get_balance: SERVICE_UNAVAILABLE; retry 1 of 1" in ours[2][2]
    assert re.fullmatch(line.format(status=200, attempt=2), ours[3][2])


def test_smsflow_log_variable_turns_logging_on(planted: Planted) -> None:
    """SMSFLOW_LOG=debug prints the attempt lines to stderr (no secret); unset, nothing."""
    script = (
        "from smsflow.testing import Sandbox\n"
        f"sandbox = Sandbox(client_secret={planted.secret!r})\n"
        "with sandbox.client() as client:\n"
        "    client.get_balance()\n"
        f"    message = {{'destination': {DESTINATION!r}, 'content': {planted.content!r}}}\n"
        "    client.send_sms('Log', [message])\n"
    )

    def run(level: str) -> str:
        env = {**os.environ, "SMSFLOW_LOG": level}
        done = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
        assert 0 == done.returncode, done.stderr
        return done.stderr

    debug, off = run("debug"), run("")
    assert "" == off
    assert re.search(
        r"smsflow DEBUG GET /api/integration/Balance -> 200 in [\d.]+ ms \(attempt 1\)", debug
    )
    assert "POST /api/integration/BulkMessages -> 200" in debug
    for hidden in (planted.secret, DESTINATION, planted.content):
        assert hidden not in debug


# -- the detector can fail ------------------------------------------------------------------


def test_detector_catches_planted_leaks(
    server: SandboxServer, planted: Planted, logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planted leaks (a debug line logging the token request's headers, one logging the token,
    a repr with the secret, an error message with a token) are each caught by the detector."""
    leaky = logging.getLogger("smsflow")
    original_op, original_accept = TokenCache.token_op, TokenCache.accept_answer

    def token_op(self: TokenCache, timeout: Any = None) -> Any:
        op = original_op(self, timeout)
        leaky.debug("token request headers: %s", dict(op.headers))  # the careless line
        return op

    def accept_answer(self: TokenCache, response: httpx.Response, fallback: Any) -> Any:
        token, schema = original_accept(self, response, fallback)  # every token answer's reader
        leaky.debug("got token %s...", token.value[:16])  # even a prefix is a leak
        return token, schema

    monkeypatch.setattr(TokenCache, "token_op", token_op)
    monkeypatch.setattr(TokenCache, "accept_answer", accept_answer)
    monkeypatch.setattr(
        SmsFlowClient, "__repr__", lambda self: f"SmsFlowClient({self._config.client_secret})"
    )
    exhibits = sync_scenario(server, planted)
    exhibits += [(f"log line {i}", line) for i, line in enumerate(logs.lines)]
    leaky_error = SmsFlowError(f"refused token {planted.tokens[0]}")
    exhibits += error_exhibits("planted error", leaky_error)

    found = Detector(planted).leaks(exhibits)
    kinds = {what for what, _ in found}
    assert {"client secret (HTTP Basic)", "wrong secret (HTTP Basic)", "client secret"} <= kinds
    assert any(where == "repr(client)" for _, where in found)
    assert any(where.startswith("log line") and what == "token #0" for what, where in found)
    assert any(where == "planted error: traceback" for _, where in found)
