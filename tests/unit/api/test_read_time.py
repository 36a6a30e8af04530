"""read_time on GetStockLevel/ListStockLevels: any int64 seconds may arrive; none is INTERNAL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from inventory_client.v1 import stock_pb2 as pb
from inventory_server.api.convert import parse_timestamp
from inventory_server.api.stock import _Fields, _read_time
from inventory_server.domain.errors import ErrorDetails

EXTREMES = [2**63 - 1, -(2**63), 10**15, -(10**15), 253402300800, -62135596801]


@pytest.mark.parametrize("seconds", EXTREMES)
@pytest.mark.parametrize("request_type", [pb.GetStockLevelRequest, pb.ListStockLevelsRequest])
def test_a_read_time_beyond_what_a_datetime_holds_is_a_field_violation(
    seconds: int, request_type: type[pb.GetStockLevelRequest] | type[pb.ListStockLevelsRequest]
) -> None:
    request = request_type(read_time=Timestamp(seconds=seconds))
    fields = _Fields()
    _read_time(request, fields)
    assert [v.field for v in fields.errors.violations] == ["read_time"]


def test_a_past_read_time_parses_and_a_future_one_is_refused() -> None:
    past = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    fields = _Fields()
    assert (
        _read_time(pb.GetStockLevelRequest(read_time=Timestamp(seconds=int(past.timestamp()))), fields)
        == past
    )
    assert not fields.errors.violations
    future = Timestamp(seconds=int((datetime.now(UTC) + timedelta(days=1)).timestamp()))
    _read_time(pb.GetStockLevelRequest(read_time=future), fields)
    assert [v.description for v in fields.errors.violations] == ["must not be in the future"]


def test_parse_timestamp_names_the_field_and_returns_none_when_out_of_range() -> None:
    errors = ErrorDetails()
    assert parse_timestamp(Timestamp(seconds=2**63 - 1), "end_time", errors) is None
    assert [(v.field, v.description) for v in errors.violations] == [("end_time", "is out of range")]
