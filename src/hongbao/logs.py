"""Log lines for operators: readable by default, one JSON object a line with HONGBAO_LOG_FORMAT=json, and the
request id (api/observe.py) on every line written while a request is being served.

The id lives in a context variable that the observing middleware sets for each request; formatters read it when
they format, in the request's own context, so no log call has to pass it.  Lines from the writer thread or the
scheduler, which serve no single request, carry "-".
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

# Bytes as they arrive and leave in headers; decoded only when a line is formatted.
REQUEST_ID: ContextVar[bytes] = ContextVar("hongbao_request_id", default=b"-")
# Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON line.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


class TextFormatter(logging.Formatter):
    """`2026-12-02 07:00:00,123 INFO    hongbao.access [3f9c…] POST /v1/packets/{packet_id}/open 200 1.2 ms`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = REQUEST_ID.get().decode()
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, `extra=` fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get().decode(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def formatter(log_format: str) -> logging.Formatter:
    """The formatter named by HONGBAO_LOG_FORMAT: "text" (the default) or "json"."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to whatever `sys.stderr` is when a line is written, not when the handler was made: a
    command run inside another program (a test runner's CliRunner, an embedding host) may swap stderr and close
    the old one, and a handler bound to it then fails every later line with "--- Logging error ---"."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure(log_format: str = "text", level: str = "info") -> None:
    """Send every logger's lines (hongbao's, uvicorn's, SQLAlchemy's) to stderr in one format."""
    handler = _Stderr()
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):  # theirs propagate to ours
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # uvicorn's access line never: hongbao's own (HONGBAO_ACCESS_LOG, api/observe.py) has the route and request id.
    # uvicorn writes one per request while its access logger has a handler up the chain; `access_log=False` cut it
    # only where uvicorn configured logging after this (one process): a `--workers` process runs this afterwards.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
