"""The audit log end to end (issue 10): a row for each change, login and denial, read with ListAuditEvents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from google.protobuf import field_mask_pb2

from inventory_client import (
    InvalidArgumentError,
    InventoryClient,
    PermissionDeniedError,
    UnauthenticatedError,
)
from inventory_client.v1 import audit_pb2, product_pb2, user_pb2, warehouse_pb2

from .auth_helpers import AUDIENCE, ISSUER, Issuer, write_file
from .conftest import ServerProcess, start_server
from .test_auth_roles import DEFAULT_POLICY

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    server: ServerProcess
    issuer: Issuer

    def client(self, sub: str | None) -> InventoryClient:
        token = None if sub is None else self.issuer.token(sub)
        return InventoryClient(self.server.target, token=token, timeout=10, max_attempts=1)

    def events(self, filter: str) -> list[audit_pb2.AuditEvent]:
        with self.client("auditor") as auditor:
            found: list[audit_pb2.AuditEvent] = []
            token = ""
            while True:
                page = auditor.audit.ListAuditEvents(
                    audit_pb2.ListAuditEventsRequest(filter=filter, page_size=2, page_token=token)
                )
                found.extend(page.events)
                token = page.next_page_token
                if not token:
                    return found


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, database_factory: object, migrated_template: str
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("audit")
    issuer = Issuer(folder / "jwks.json")
    issuer.new_key("k1")
    issuer.publish("k1")
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    policy["bindings"] = [
        {"principal": "ops-admin", "roles": ["admin"]},
        {"principal": "auditor", "roles": ["admin"]},
        {"principal": "reporting", "roles": ["viewer"]},
    ]
    write_file(folder / "policy.yaml", yaml.safe_dump(policy))
    server = start_server(
        folder,
        {
            "DATABASE_URL": database_factory(template=migrated_template),  # type: ignore[operator]
            "INVENTORY_AUTH_POLICY_FILE": str(folder / "policy.yaml"),
            "INVENTORY_JWT_JWKS_FILE": str(issuer.jwks_file),
            "INVENTORY_JWT_ISSUER": ISSUER,
            "INVENTORY_JWT_AUDIENCE": AUDIENCE,
            "INVENTORY_GRACE_PERIOD": "2",
        },
    )
    yield World(server, issuer)
    assert server.stop() == 0, server.log()


def test_product_and_warehouse_changes_each_have_a_row(world: World) -> None:
    with world.client("ops-admin") as admin:
        request_id = str(uuid.uuid4())
        product = admin.products.CreateProduct(
            product_pb2.CreateProductRequest(
                product=product_pb2.Product(sku=f"AUD-{request_id[:8]}", name="p"), request_id=request_id
            )
        ).product
        product = admin.products.UpdateProduct(
            product_pb2.UpdateProductRequest(
                product=product_pb2.Product(id=product.id, name="q", etag=product.etag),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            )
        ).product
        product = admin.products.DeleteProduct(product_pb2.DeleteProductRequest(id=product.id)).product
        admin.products.UndeleteProduct(product_pb2.UndeleteProductRequest(id=product.id))
        warehouse = admin.warehouses.CreateWarehouse(
            warehouse_pb2.CreateWarehouseRequest(
                warehouse=warehouse_pb2.Warehouse(code=f"A{request_id[:6]}", name="w")
            )
        ).warehouse
        admin.warehouses.DeleteWarehouse(warehouse_pb2.DeleteWarehouseRequest(id=warehouse.id))
    rows = world.events(f'resource = "products/{product.id}"')
    assert [r.method.split("/")[1] for r in rows] == [
        "CreateProduct",
        "UpdateProduct",
        "DeleteProduct",
        "UndeleteProduct",
    ]
    assert rows[0].request_id == request_id
    assert list(rows[1].changed_fields) == ["name"]
    assert {(r.principal, r.result) for r in rows} == {("ops-admin", "OK")}
    rows = world.events(f'resource = "warehouses/{warehouse.id}"')
    assert [r.method.split("/")[1] for r in rows] == ["CreateWarehouse", "DeleteWarehouse"]


def test_user_changes_and_logins_have_rows_without_any_password(world: World) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    with world.client("ops-admin") as admin:
        user = admin.users.CreateUser(
            user_pb2.CreateUserRequest(
                user=user_pb2.User(email=email, display_name="u", role=user_pb2.ROLE_VIEWER),
                password=PASSWORD,
            )
        ).user
        admin.users.UpdateUser(
            user_pb2.UpdateUserRequest(
                user=user_pb2.User(id=user.id, role=user_pb2.ROLE_CLERK),
                update_mask=field_mask_pb2.FieldMask(paths=["role", "password"]),
                password="a second long passphrase",
            )
        )
        admin.users.AuthenticateUser(
            user_pb2.AuthenticateUserRequest(email=email, password="a second long passphrase")
        )
        with pytest.raises(UnauthenticatedError):
            admin.users.AuthenticateUser(
                user_pb2.AuthenticateUserRequest(email=email, password="wrong guess 1")
            )
        admin.users.DeleteUser(user_pb2.DeleteUserRequest(id=user.id))
    rows = world.events(f'resource = "users/{user.id}"')
    assert [(r.method.split("/")[1], r.result) for r in rows] == [
        ("CreateUser", "OK"),
        ("UpdateUser", "OK"),
        ("AuthenticateUser", "OK"),
        ("AuthenticateUser", "UNAUTHENTICATED"),
        ("DeleteUser", "OK"),
    ]
    assert list(rows[1].changed_fields) == ["password", "role"]
    listed = str(rows)
    assert "passphrase" not in listed
    assert "wrong guess" not in listed
    assert "passphrase" not in world.server.log()


def test_each_denial_has_a_row(world: World) -> None:
    marker = "inventory.v1.UserService/ListUsers"
    with world.client(None) as anonymous, pytest.raises(UnauthenticatedError):
        anonymous.users.ListUsers(user_pb2.ListUsersRequest())
    with world.client("reporting") as reporting, pytest.raises(PermissionDeniedError):
        reporting.users.ListUsers(user_pb2.ListUsersRequest())
    rows = world.events(f'method = "{marker}" AND result != "OK"')
    assert [(r.principal, r.result) for r in rows][-2:] == [
        ("", "UNAUTHENTICATED"),
        ("reporting", "PERMISSION_DENIED"),
    ]
    with world.client("reporting") as reporting, pytest.raises(PermissionDeniedError):
        reporting.audit.ListAuditEvents(audit_pb2.ListAuditEventsRequest())


def test_a_bad_filter_is_invalid_argument(world: World) -> None:
    with world.client("auditor") as auditor, pytest.raises(InvalidArgumentError):
        auditor.audit.ListAuditEvents(audit_pb2.ListAuditEventsRequest(filter="changed_fields = 1"))
