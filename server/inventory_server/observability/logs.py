"""Log lines for people (text) or for log collectors (JSON, one object per line).

``INVENTORY_LOG_FORMAT=json`` makes every line the server writes through
``logging`` a JSON object: ``time`` (UTC, RFC 3339), ``level``, ``logger``,
``message``, the access fields when the line is an access line, and
``exception`` (the formatted traceback) when there is one. Python warnings go
through logging too, so they are JSON as well.

The access line (logger ``inventory_server.access``, one per call) carries
``ACCESS_FIELDS``; its values come from the call itself (method, status code,
duration, peer) and from identifiers the caller chose (request_id, trace id),
never from request bodies, credentials or settings, so no secret can reach it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

ACCESS_LOGGER = "inventory_server.access"
# The fields of an access line, in the order the text format shows them after the message.
ACCESS_FIELDS: tuple[str, ...] = (
    "method",
    "code",
    "duration_ms",
    "principal",
    "request_id",
    "trace_id",
    "peer",
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def access_fields(record: logging.LogRecord) -> Mapping[str, Any] | None:
    """The access fields a record carries (``extra={"access": {...}}``), if it is an access line."""
    fields = getattr(record, "access", None)
    return fields if isinstance(fields, Mapping) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = access_fields(record)
        if fields is not None:
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line; an access line gets its fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        fields = access_fields(record)
        if fields is None:
            return text
        shown = " ".join(f"{key}={_text_value(fields[key])}" for key in ACCESS_FIELDS if key in fields)
        return f"{text} {shown}"


def _text_value(value: object) -> str:
    """Caller-chosen values (request_id) are quoted when they could break the line apart."""
    text = str(value)
    if text and all(c.isprintable() and not c.isspace() and c != '"' for c in text):
        return text
    return json.dumps(text, ensure_ascii=False) if text else ""


def configure_logging(level: str, log_format: str, stream: IO[str] | None = None) -> None:
    """Send every log record (and Python warnings) to ``stream`` (stderr) in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)
