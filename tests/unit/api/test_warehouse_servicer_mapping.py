"""Warehouse proto <-> domain mapping in the servicer module."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from inventory_client.v1 import warehouse_pb2 as pb
from inventory_server.api.convert import checked_request_id
from inventory_server.api.warehouses import new_from_proto, to_proto
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.warehouse import Warehouse


def test_new_warehouse_takes_code_name_and_address_and_trims_the_code() -> None:
    new = new_from_proto(pb.Warehouse(id="ignored", code="  BER-1 ", name="Berlin", address="Str. 1"))
    assert (new.code, new.name, new.address) == ("BER-1", "Berlin", "Str. 1")


def test_to_proto_carries_every_field_and_leaves_delete_time_unset_while_live() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    warehouse = Warehouse(uuid4(), "BER-1", "Berlin", "Str. 1", moment, moment, None, 2)
    message = to_proto(warehouse)
    assert (message.id, message.code, message.name, message.address) == (
        str(warehouse.id),
        "BER-1",
        "Berlin",
        "Str. 1",
    )
    assert message.create_time.ToDatetime(tzinfo=UTC) == moment
    assert message.etag == 'W/"2"'
    assert not message.HasField("delete_time")


def test_request_ids_longer_than_128_characters_are_refused() -> None:
    assert checked_request_id("r" * 128) == "r" * 128
    with pytest.raises(InvalidArgument):
        checked_request_id("r" * 129)
