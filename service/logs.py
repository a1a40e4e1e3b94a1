"""Structured logging: JSON lines with the request id, and secrets redacted from every record.

Redaction runs as a handler filter so it also covers third-party loggers (uvicorn, SQLAlchemy,
the CRM SDKs), and it rewrites the final message, including formatted arguments and exceptions.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("cem_request_id", default=None)

REDACTED = "[REDACTED]"
_HANDLER_NAME = "cem"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every known secret replaced (longest first, so a secret containing another
    is removed whole)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


MAX_ERROR_CHARS = 500


def one_line_error(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """`Type: first line of the message`, secrets redacted, bounded: what a job or a webhook
    delivery records about a failure (never a traceback)."""
    lines = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return redact(message, secrets)[:MAX_ERROR_CHARS]


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactingFilter(logging.Filter):
    """Replaces known secret values in a record's final message and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def _scrub(self, text: str) -> str:
        return redact(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self._scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = self._scrub(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at emit time (it may be replaced after start-up)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str, fmt: str, secrets: Iterable[str]) -> None:
    """Install one stderr handler on the root logger (replacing a previous one of ours)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn installs its own handlers; route its records through ours instead.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
