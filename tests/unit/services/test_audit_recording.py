"""Audit events written by the services (over the fakes): in the unit of work of the change they record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inventory_server import context
from inventory_server.domain.audit import OK
from inventory_server.domain.errors import EtagMismatch, PermissionDenied, Unauthenticated, Unavailable
from inventory_server.domain.user import NewUser, Role
from inventory_server.domain.warehouse import NewWarehouse
from inventory_server.services.audit import AuditService
from inventory_server.services.passwords import Passwords
from inventory_server.services.users import UserService
from inventory_server.services.warehouses import WarehouseService
from tests.unit.fakes import CountingHasher, Fakes, fake_transactor

PASSWORD = "correct horse battery staple"


class Nothing:
    def allows(self, permission: str) -> bool:
        return False


@pytest.fixture
def transactor() -> Iterator[Fakes]:
    # A sync fixture runs in the test session's own context: reset what it sets, or it leaks.
    principal = context.principal.set("ops-admin")
    method = context.method.set("/inventory.v1.Test/Method")
    yield fake_transactor()
    context.principal.reset(principal)
    context.method.reset(method)


async def test_warehouse_changes_are_recorded_with_field_names_and_request_id(transactor: Fakes) -> None:
    service = WarehouseService(transactor)
    created = await service.create(NewWarehouse("W1", "One"), request_id="req-9")
    await service.update(created.id, {"name": "Uno"}, None)
    await service.delete(created.id, None)
    events = transactor.db.audit_events
    assert [e.resource for e in events] == [f"warehouses/{created.id}"] * 3
    assert [e.changed_fields for e in events] == [(), ("name",), ()]
    assert [e.request_id for e in events] == ["req-9", "", ""]
    assert {(e.principal, e.method, e.result) for e in events} == {
        ("ops-admin", "inventory.v1.Test/Method", OK)
    }


async def test_a_failed_change_leaves_no_event(transactor: Fakes) -> None:
    service = WarehouseService(transactor)
    created = await service.create(NewWarehouse("W1", "One"))
    with pytest.raises(EtagMismatch):
        await service.update(created.id, {"name": "Uno"}, 99)
    assert len(transactor.db.audit_events) == 1


async def test_password_and_role_changes_name_the_fields_never_the_values(transactor: Fakes) -> None:
    hasher = CountingHasher()
    users = UserService(transactor, Passwords(hasher))
    ada = await users.create(NewUser("ada@example.com", Role.CLERK, "Ada"), PASSWORD)
    await users.update(ada.id, {"password": "a new long passphrase", "role": Role.ADMIN}, None)
    last = transactor.db.audit_events[-1]
    assert last.changed_fields == ("password", "role")
    assert "passphrase" not in repr(transactor.db.audit_events)
    assert transactor.db.password_hashes[ada.id] not in repr(transactor.db.audit_events)


async def test_a_refused_role_change_is_recorded_as_denied(transactor: Fakes) -> None:
    users = UserService(transactor, Passwords(CountingHasher()))
    ada = await users.create(NewUser("ada@example.com", Role.CLERK, "Ada"), PASSWORD)
    context.permissions.set(Nothing())
    with pytest.raises(PermissionDenied):
        await users.update(ada.id, {"role": Role.ADMIN}, None)
    last = transactor.db.audit_events[-1]
    assert (last.resource, last.changed_fields, last.result) == (
        f"users/{ada.id}",
        ("role",),
        "PERMISSION_DENIED",
    )


async def test_logins_are_recorded_success_and_failure_alike(transactor: Fakes) -> None:
    users = UserService(transactor, Passwords(CountingHasher()))
    ada = await users.create(NewUser("ada@example.com", Role.CLERK, "Ada"), PASSWORD)
    await users.authenticate("ada@example.com", PASSWORD)
    for email, password in (("ada@example.com", "wrong password 1"), ("nobody@example.com", PASSWORD)):
        with pytest.raises(Unauthenticated):
            await users.authenticate(email, password)
    logins = transactor.db.audit_events[-3:]
    assert [(e.resource, e.result) for e in logins] == [
        (f"users/{ada.id}", OK),
        (f"users/{ada.id}", "UNAUTHENTICATED"),
        ("users/-", "UNAUTHENTICATED"),
    ]
    assert "wrong password" not in repr(logins)
    assert "nobody" not in repr(logins)


async def test_a_refusal_is_recorded_and_a_failure_to_record_it_is_only_logged(
    transactor: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    audit = AuditService(transactor)
    await audit.record_refusal("inventory.v1.UserService/ListUsers", "", "UNAUTHENTICATED")
    (refused,) = transactor.db.audit_events
    assert (refused.method, refused.principal, refused.result) == (
        "inventory.v1.UserService/ListUsers",
        "",
        "UNAUTHENTICATED",
    )

    async def down(work: object, **kw: object) -> None:
        raise Unavailable("database down")

    transactor.write = down  # type: ignore[method-assign,assignment]
    await audit.record_refusal("inventory.v1.UserService/ListUsers", "x", "PERMISSION_DENIED")
    assert "could not record the refusal" in caplog.text
