"""The README's grpcurl quickstart, checked without grpcurl: every JSON body parses into
the request message of the method it is sent to (strictly: an unknown or misspelt field
fails), every method exists, every id the block keeps with jq is a real response field,
and every stock movement names who did it and carries a request_id.

(The Python version of the same flow runs against a real server in tests/e2e/test_quickstart.py.)
"""

from __future__ import annotations

import re
import shlex
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from google.protobuf import descriptor, descriptor_pool, json_format, message, message_factory
from grpc_health.v1 import health_pb2  # noqa: F401 (puts grpc.health.v1 into the pool)

from inventory_client.v1 import product_pb2, stock_pb2, transaction_pb2, user_pb2, warehouse_pb2  # noqa: F401
from tests.readme_blocks import DEFAULT_TARGET, grpcurl_block

MOVEMENTS = {"ReceiveStock", "ReserveStock", "ShipStock"}


@dataclass
class Call:
    line: int
    method: str  # "inventory.v1.StockService/ReceiveStock"
    body: str  # the JSON sent ("" when none)
    assigns: str | None  # NAME in NAME=$(grpcurl ...)
    jq_path: str | None  # ".user.id" in | jq -r .user.id

    def method_descriptor(self) -> descriptor.MethodDescriptor:
        service, _, name = self.method.partition("/")
        return descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]


@cache
def calls() -> tuple[Call, ...]:
    lines = grpcurl_block().splitlines()
    found: list[Call] = []
    n = 0
    while n < len(lines):
        line = lines[n]
        if "grpcurl" not in line or line.lstrip().startswith("#"):
            n += 1
            continue
        start = n
        # The whole command: continuation lines, and a single-quoted -d body over several lines.
        command = line
        while command.count("'") % 2 or command.rstrip().endswith("\\"):
            n += 1
            command += "\n" + lines[n]
        n += 1
        body = ""
        if "-d @" in command:
            assert command.rstrip().endswith("<<EOF") or "<<EOF |" in command, command
            end = lines.index("EOF", n)
            body, n = "\n".join(lines[n:end]), end + 1
        else:
            quoted = re.search(r"-d '(.*?)'", command, re.DOTALL)
            body = quoted.group(1) if quoted else ""
        assigned = re.match(r"\s*([A-Z_]+)=\$\(grpcurl", command)
        jq = re.search(r"\| jq -r (\.[\w.]+)", command)
        words = shlex.split(command.split("|")[0].split("<<")[0].replace("$(", " "), comments=True)
        methods = [w for w in words if re.fullmatch(r"[\w.]+/\w+", w)]
        if not methods:  # `grpcurl ... list` / `describe`: no request body
            assert "list" in words or "describe" in words, command
            continue
        (method,) = methods
        assert DEFAULT_TARGET in words, command
        found.append(Call(start + 1, method, body, assigned and assigned.group(1), jq and jq.group(1)))
    return tuple(found)


def variables() -> dict[str, str]:
    return {call.assigns: str(uuid.uuid4()) for call in calls() if call.assigns}


def expand(body: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        assert match.group(1) in values, f"${match.group(1)} is used before the block sets it"
        return values[match.group(1)]

    return re.sub(r"\$([A-Z_]+)", value, body)


def request_of(call: Call, values: dict[str, str]) -> message.Message:
    request_type = message_factory.GetMessageClass(call.method_descriptor().input_type)
    return json_format.Parse(expand(call.body, values) or "{}", request_type())


def test_the_block_walks_the_whole_flow_in_order() -> None:
    names = [call.method.rsplit("/", 1)[-1] for call in calls()]
    assert names == [
        "Check",
        "CreateUser",
        "CreateWarehouse",
        "CreateProduct",
        "ReceiveStock",
        "ReserveStock",
        "ShipStock",
        "ListTransactions",
    ]


@pytest.mark.parametrize("call", calls(), ids=lambda c: c.method.rsplit("/", 1)[-1])
def test_every_json_body_parses_into_its_request_message(call: Call) -> None:
    request = request_of(call, variables())
    if call.body:
        assert request.ByteSize() > 0


def test_a_misspelt_field_would_be_caught() -> None:
    (receive,) = [c for c in calls() if c.method.endswith("/ReceiveStock")]
    broken = Call(
        receive.line, receive.method, receive.body.replace('"performed_by"', '"performedby"'), None, None
    )
    with pytest.raises(json_format.ParseError):
        request_of(broken, variables())


def test_variables_carry_the_ids_the_later_calls_need() -> None:
    values = variables()
    requests = {c.method.rsplit("/", 1)[-1]: request_of(c, values) for c in calls()}
    receive, reserve, ship = (requests[name] for name in ("ReceiveStock", "ReserveStock", "ShipStock"))
    assert isinstance(receive, stock_pb2.ReceiveStockRequest)
    assert receive.performed_by == values["CLERK"]
    assert receive.product_id == values["PRODUCT"]
    assert receive.warehouse_id == values["WAREHOUSE"]
    assert isinstance(ship, stock_pb2.ShipStockRequest)
    assert ship.reservation_id == values["RESERVATION"]
    assert isinstance(reserve, stock_pb2.ReserveStockRequest)
    assert ship.quantity == reserve.quantity <= receive.quantity
    listing = requests["ListTransactions"]
    assert isinstance(listing, transaction_pb2.ListTransactionsRequest)
    assert listing.filter == f'product_id = "{values["PRODUCT"]}"'


def field_value(request: message.Message, name: str) -> Any:
    assert name in request.DESCRIPTOR.fields_by_name, (request.DESCRIPTOR.full_name, name)
    return getattr(request, name)


def test_every_write_is_idempotent_and_every_movement_names_its_clerk() -> None:
    values = variables()
    request_ids = []
    for call in calls():
        name = call.method.rsplit("/", 1)[-1]
        request = request_of(call, values)
        if name.startswith("Create") or name in MOVEMENTS:
            request_ids.append(field_value(request, "request_id"))
            assert request_ids[-1], name  # so the block can run twice
        if name in MOVEMENTS:
            assert field_value(request, "performed_by") == values["CLERK"], name
    assert len(request_ids) == len(set(request_ids)) == 6


@pytest.mark.parametrize("call", [c for c in calls() if c.jq_path], ids=lambda c: c.assigns or "")
def test_jq_reads_a_field_the_response_has(call: Call) -> None:
    assert call.jq_path
    current: descriptor.Descriptor | None = call.method_descriptor().output_type
    for name in call.jq_path.strip(".").split("."):
        assert current is not None, call.jq_path
        # grpcurl prints lowerCamelCase names; single words are the same either way.
        assert name in current.fields_by_camelcase_name, (call.method, name)
        current = current.fields_by_camelcase_name[name].message_type
    assert current is None  # ends at a scalar (the id string)


def test_the_created_user_may_move_stock() -> None:
    (create,) = [c for c in calls() if c.method.endswith("/CreateUser")]
    request = request_of(create, {})
    assert isinstance(request, user_pb2.CreateUserRequest)
    assert request.user.role in (user_pb2.ROLE_CLERK, user_pb2.ROLE_MANAGER, user_pb2.ROLE_ADMIN)
    assert len(request.password) >= 12  # the server's minimum
