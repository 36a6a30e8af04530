"""Proto conversions at the edge: ids, etags, timestamps, update masks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from inventory_server.api.convert import checked_request_id, mask_paths, parse_etag, parse_id, timestamp
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.versioned import etag_for
from inventory_server.domain.warehouse import WAREHOUSE_UPDATES


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        ),
    )
)
def test_timestamp_equals_protobufs_own_conversion(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected


def test_timestamp_of_none_is_none() -> None:
    assert timestamp(None) is None


def test_parse_id_names_the_field() -> None:
    assert parse_id(str(uuid.UUID(int=7)), "product_id") == uuid.UUID(int=7)
    for bad in ("", "nope", "1234"):
        with pytest.raises(InvalidArgument) as info:
            parse_id(bad, "product_id")
        assert info.value.violations[0].field == "product_id"


def test_parse_etag_accepts_only_our_etags() -> None:
    assert parse_etag("") is None
    assert parse_etag(etag_for(3)) == 3
    with pytest.raises(InvalidArgument):
        parse_etag('"3"')


def test_mask_paths_defaults_to_every_allowed_field_and_refuses_others() -> None:
    assert mask_paths(FieldMask(), WAREHOUSE_UPDATES) == ["address", "name"]
    assert mask_paths(FieldMask(paths=["name"]), WAREHOUSE_UPDATES) == ["name"]
    with pytest.raises(InvalidArgument) as info:
        mask_paths(FieldMask(paths=["name", "code"]), WAREHOUSE_UPDATES)
    assert "code" in info.value.message
    assert info.value.violations[0].field == "update_mask"


def test_request_id_length_is_bounded() -> None:
    assert checked_request_id("r" * 128) == "r" * 128
    with pytest.raises(InvalidArgument):
        checked_request_id("r" * 129)


@pytest.mark.parametrize(
    "etag",
    [
        'W/"²"',  # str.isdigit() says yes, int() says no
        'W/"٣"',  # an Arabic-Indic digit: int() would accept it
        'W/"' + "9" * 4301 + '"',  # beyond int()'s digit limit
        'W/"' + "9" * 19 + '"',  # beyond the bigint version column
        'W/"-1"',
        'W/""',
        'W/"1 "',
    ],
)
def test_odd_etags_are_invalid_arguments_naming_the_field(etag: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_etag(etag, "product.etag")
    assert info.value.violations[0].field == "product.etag"


def test_the_largest_version_still_parses() -> None:
    assert parse_etag(etag_for(2**63 - 1)) == 2**63 - 1


@given(st.text(max_size=40))
def test_any_etag_text_parses_or_is_a_clean_invalid_argument(text: str) -> None:
    field = ""
    version = None
    try:
        version = parse_etag(text)
    except InvalidArgument as error:
        field = error.violations[0].field
    assert field == "etag" or (version is None or 0 <= version < 2**63)
