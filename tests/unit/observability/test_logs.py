"""Log lines: JSON objects one per line, or text with the access fields as key=value."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest

from inventory_server.observability.logs import ACCESS_LOGGER, configure_logging

ACCESS = {
    "method": "/inventory.v1.StockService/ReceiveStock",
    "code": "OK",
    "duration_ms": 1.25,
    "principal": "spiffe://example.org/orders",
    "request_id": 'r-1 "quoted"\nsecond line',
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "peer": "ipv4:127.0.0.1:5555",
}


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("restore_root")
def test_json_lines_carry_the_access_fields_exceptions_and_warnings() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", out)
    logging.getLogger(ACCESS_LOGGER).info("%s %s", "m", "OK", extra={"access": ACCESS})
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("inventory_server.api").exception("failed\nbadly")
    warnings.warn("old thing", DeprecationWarning, stacklevel=1)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    access, failure, warning = lines
    assert access["logger"] == ACCESS_LOGGER
    assert access["level"] == "INFO"
    assert access["time"].endswith("+00:00")
    assert {key: access[key] for key in ACCESS} == ACCESS
    assert failure["message"] == "failed\nbadly"
    assert "ValueError: boom" in failure["exception"]
    assert warning["logger"] == "py.warnings"
    assert "old thing" in warning["message"]


@pytest.mark.usefixtures("restore_root")
def test_text_access_line_shows_the_fields_and_quotes_what_could_split_it() -> None:
    out = io.StringIO()
    configure_logging("INFO", "text", out)
    logging.getLogger(ACCESS_LOGGER).info("%s %s", "m", "OK", extra={"access": {**ACCESS, "principal": ""}})
    (line,) = out.getvalue().splitlines()
    assert line.endswith(
        " INFO inventory_server.access: m OK method=/inventory.v1.StockService/ReceiveStock code=OK "
        'duration_ms=1.25 principal= request_id="r-1 \\"quoted\\"\\nsecond line" '
        "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 peer=ipv4:127.0.0.1:5555"
    )
