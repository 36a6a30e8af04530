"""End users and services under the shipped default policy (deploy/auth/policy.yaml), over tokens.

One server for the module, with the default policy plus bindings for a few
service principals, and users created by an admin service.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from google.protobuf import field_mask_pb2

from inventory_client import InventoryClient, PermissionDeniedError, UnauthenticatedError
from inventory_client.v1 import product_pb2, stock_pb2, user_pb2, warehouse_pb2

from .auth_helpers import AUDIENCE, ISSUER, Issuer, write_file
from .conftest import ServerProcess, start_server

DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "deploy" / "auth" / "policy.yaml"
EXTRA_BINDINGS: list[dict[str, object]] = [
    {"principal": "ops-admin", "roles": ["admin"]},
    {"principal": "till", "roles": ["clerk"], "act_for_users": True},
    {"principal": "orders", "roles": ["clerk"]},
]


@dataclass
class World:
    server: ServerProcess
    issuer: Issuer
    users: dict[str, str]  # name -> user id
    product_id: str
    warehouse_id: str

    def client(self, sub: str) -> InventoryClient:
        return InventoryClient(self.server.target, token=self.issuer.token(sub), timeout=10, max_attempts=1)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, database_factory: object, migrated_template: str
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("auth-roles")
    issuer = Issuer(folder / "jwks.json")
    issuer.new_key("k1")
    issuer.publish("k1")
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    policy["bindings"] = EXTRA_BINDINGS
    write_file(folder / "policy.yaml", yaml.safe_dump(policy))
    server = start_server(
        folder,
        {
            "DATABASE_URL": database_factory(template=migrated_template),  # type: ignore[operator]
            "INVENTORY_AUTH_POLICY_FILE": str(folder / "policy.yaml"),
            "INVENTORY_JWT_JWKS_FILE": str(issuer.jwks_file),
            "INVENTORY_JWT_ISSUER": ISSUER,
            "INVENTORY_JWT_AUDIENCE": AUDIENCE,
            "INVENTORY_AUTH_USER_CACHE_SECONDS": "0.5",
            "INVENTORY_GRACE_PERIOD": "2",
        },
    )
    world = World(server, issuer, {}, "", "")
    with world.client("ops-admin") as admin:
        for name, role in (
            ("viewer", user_pb2.ROLE_VIEWER),
            ("clerk", user_pb2.ROLE_CLERK),
            ("other-clerk", user_pb2.ROLE_CLERK),
            ("promoted", user_pb2.ROLE_VIEWER),
            ("manager", user_pb2.ROLE_MANAGER),
        ):
            user = admin.users.CreateUser(
                user_pb2.CreateUserRequest(
                    user=user_pb2.User(email=f"{name}@example.com", display_name=name, role=role),
                    password="correct horse battery staple",
                )
            ).user
            world.users[name] = user.id
    with world.client(world.users["manager"]) as manager:
        world.product_id = manager.products.CreateProduct(
            product_pb2.CreateProductRequest(product=product_pb2.Product(sku="AUTH-1", name="p"))
        ).product.id
        world.warehouse_id = manager.warehouses.CreateWarehouse(
            warehouse_pb2.CreateWarehouseRequest(warehouse=warehouse_pb2.Warehouse(code="AUTH", name="w"))
        ).warehouse.id
    yield world
    assert server.stop() == 0, server.log()


def _receive(world: World, performed_by: str = "") -> stock_pb2.ReceiveStockRequest:
    return stock_pb2.ReceiveStockRequest(
        product_id=world.product_id,
        warehouse_id=world.warehouse_id,
        quantity=1,
        request_id=str(uuid.uuid4()),
        performed_by=performed_by,
    )


def test_viewer_reads_but_cannot_move_stock(world: World) -> None:
    with world.client(world.users["viewer"]) as viewer:
        assert viewer.products.ListProducts(product_pb2.ListProductsRequest()).products
        with pytest.raises(PermissionDeniedError):
            viewer.stock.ReceiveStock(_receive(world))
        with pytest.raises(PermissionDeniedError):
            viewer.users.ListUsers(user_pb2.ListUsersRequest())


def test_clerk_moves_stock_as_themselves_and_the_ledger_records_the_token_principal(world: World) -> None:
    clerk_id = world.users["clerk"]
    with world.client(clerk_id) as clerk:
        receipt = clerk.stock.ReceiveStock(_receive(world))  # performed_by left empty: the token's user
        assert receipt.transaction.performed_by == clerk_id
        assert receipt.transaction.caller == clerk_id
        same = clerk.stock.ReceiveStock(_receive(world, performed_by=clerk_id))
        assert same.transaction.performed_by == clerk_id


def test_a_user_token_cannot_act_as_another_user(world: World) -> None:
    with world.client(world.users["clerk"]) as clerk, pytest.raises(PermissionDeniedError) as raised:
        clerk.stock.ReceiveStock(_receive(world, performed_by=world.users["other-clerk"]))
    assert raised.value.reason == "PERFORMER_NOT_CALLER"


def test_clerk_cannot_create_users_or_change_roles(world: World) -> None:
    with world.client(world.users["clerk"]) as clerk:
        with pytest.raises(PermissionDeniedError):
            clerk.users.CreateUser(
                user_pb2.CreateUserRequest(
                    user=user_pb2.User(email="x@example.com", display_name="x", role=user_pb2.ROLE_ADMIN),
                    password="correct horse battery staple",
                )
            )
        with pytest.raises(PermissionDeniedError):
            clerk.users.UpdateUser(
                user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=world.users["clerk"], role=user_pb2.ROLE_ADMIN),
                    update_mask=field_mask_pb2.FieldMask(paths=["role"]),
                )
            )


def test_a_service_acts_for_users_only_when_its_binding_allows_it(world: World) -> None:
    clerk_id = world.users["clerk"]
    with world.client("till") as till:
        receipt = till.stock.ReceiveStock(_receive(world, performed_by=clerk_id))
        assert (receipt.transaction.performed_by, receipt.transaction.caller) == (clerk_id, "till")
    with world.client("orders") as orders, pytest.raises(PermissionDeniedError) as raised:
        orders.stock.ReceiveStock(_receive(world, performed_by=clerk_id))
    assert raised.value.reason == "ACTING_FOR_USERS_NOT_ALLOWED"


def test_a_role_change_applies_within_the_user_cache_time(world: World) -> None:
    promoted = world.users["promoted"]
    with world.client(promoted) as user:
        with pytest.raises(PermissionDeniedError):
            user.stock.ReceiveStock(_receive(world))
        with world.client("ops-admin") as admin:
            current = admin.users.GetUser(user_pb2.GetUserRequest(id=promoted)).user
            admin.users.UpdateUser(
                user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=promoted, role=user_pb2.ROLE_CLERK, etag=current.etag),
                    update_mask=field_mask_pb2.FieldMask(paths=["role"]),
                )
            )
        time.sleep(0.6)  # INVENTORY_AUTH_USER_CACHE_SECONDS=0.5
        assert user.stock.ReceiveStock(_receive(world)).transaction.performed_by == promoted


def test_a_deleted_users_token_no_longer_acts_as_that_user(world: World) -> None:
    with world.client("ops-admin") as admin:
        created = admin.users.CreateUser(
            user_pb2.CreateUserRequest(
                user=user_pb2.User(email="leaver@example.com", display_name="l", role=user_pb2.ROLE_MANAGER),
                password="correct horse battery staple",
            )
        ).user
        with world.client(created.id) as leaver:
            leaver.products.ListProducts(product_pb2.ListProductsRequest())
            admin.users.DeleteUser(user_pb2.DeleteUserRequest(id=created.id))
            time.sleep(0.6)
            with pytest.raises(PermissionDeniedError):
                leaver.products.ListProducts(product_pb2.ListProductsRequest())


def test_health_is_open_and_nothing_else_is(world: World) -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(world.server.target) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with (
        InventoryClient(world.server.target, timeout=5, max_attempts=1) as anonymous,
        pytest.raises(UnauthenticatedError),
    ):
        anonymous.products.ListProducts(product_pb2.ListProductsRequest())


def test_no_token_appears_in_the_log(world: World) -> None:
    log = world.server.log()
    assert "inventory-server listening" in log
    subjects = [*world.users.values(), *(str(b["principal"]) for b in EXTRA_BINDINGS)]
    for sub in subjects:
        token = world.issuer.token(str(sub))
        _, payload, signature = token.split(".")
        assert payload[:20] not in log
        assert signature[:20] not in log
    assert "eyJ" not in log  # no JWT (base64url JSON) of any kind
    assert "correct horse" not in log


def test_a_stock_document_by_a_user_token_is_performed_by_that_user(world: World) -> None:
    clerk_id = world.users["clerk"]
    line = stock_pb2.StockMovementLine(
        receive=stock_pb2.ReceiveLine(
            product_id=world.product_id, warehouse_id=world.warehouse_id, quantity=1
        )
    )
    with world.client(clerk_id) as clerk:
        applied = clerk.stock.ApplyStockMovements(
            stock_pb2.ApplyStockMovementsRequest(lines=[line], request_id=str(uuid.uuid4()))
        )
        assert [t.performed_by for t in applied.transactions] == [clerk_id]
        with pytest.raises(PermissionDeniedError):
            clerk.stock.ApplyStockMovements(
                stock_pb2.ApplyStockMovementsRequest(
                    lines=[line], request_id=str(uuid.uuid4()), performed_by=world.users["other-clerk"]
                )
            )
