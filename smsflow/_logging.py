"""The ``smsflow`` logger, and ``SMSFLOW_LOG`` to print it without any logging set-up.

Log lines (DEBUG for each attempt, WARNING for retries) carry the method, path, status,
duration and attempt number. They never carry credentials, tokens, message bodies or phone
numbers.
Nothing is printed unless the application configures logging or ``SMSFLOW_LOG=debug`` (or
``info``/``warning``) asks for a stderr handler: the logger has a ``NullHandler``.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["configure_from_env", "logger"]

logger = logging.getLogger("smsflow")
# A library's logger: silent unless the application configures logging (or SMSFLOW_LOG asks),
# instead of Python's last-resort handler printing WARNINGs to stderr.
logger.addHandler(logging.NullHandler())
_configured = False
_lock = threading.Lock()


def configure_from_env() -> None:
    """Attach a stderr handler to the ``smsflow`` logger once, if ``SMSFLOW_LOG`` asks for it."""
    global _configured
    if _configured:
        return
    with _lock:
        if _configured:
            return
        _configured = True
        level_name = os.environ.get("SMSFLOW_LOG", "").strip().upper()
        if not level_name:
            return
        level = logging.getLevelName(level_name)
        if not isinstance(level, int):
            level = logging.DEBUG
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level)
