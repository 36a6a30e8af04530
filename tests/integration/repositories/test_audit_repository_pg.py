"""AuditRepository on PostgreSQL: append-only rows in the caller's transaction, filtered and paged."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from inventory_server.domain.audit import NewAuditEvent
from inventory_server.domain.errors import FailedPrecondition, InvalidArgument
from inventory_server.domain.paging import ListQuery
from inventory_server.repositories.audit import AuditRepository

Conn = psycopg.AsyncConnection[Any]


def _event(
    principal: str = "ops", method: str = "inventory.v1.UserService/UpdateUser", **kw: Any
) -> NewAuditEvent:
    values: dict[str, Any] = {
        "principal": principal,
        "acting_user": None,
        "method": method,
        "resource": f"users/{uuid.uuid4()}",
        "request_id": "",
        "changed_fields": ("password", "role"),
        "result": "OK",
    }
    return NewAuditEvent(**{**values, **kw})


async def test_recorded_events_read_back_with_their_field_names(conn: Conn) -> None:
    audit = AuditRepository(conn)
    acting = uuid.uuid4()
    await audit.record(_event(acting_user=acting, request_id="req-1"))
    (row,) = (await audit.list(ListQuery(page_size=10))).items
    assert (row.principal, row.acting_user, row.request_id) == ("ops", acting, "req-1")
    assert row.changed_fields == ("password", "role")


async def test_rows_cannot_be_changed_or_deleted(conn: Conn) -> None:
    audit = AuditRepository(conn)
    await audit.record(_event())
    await conn.commit()
    for statement in (
        "UPDATE audit_events SET result = 'forged'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ):
        with pytest.raises(FailedPrecondition, match="append-only"), audit.operation("raw"):
            await conn.execute(statement)
        await conn.rollback()
    assert [r.result for r in (await audit.list(ListQuery(page_size=10))).items] == ["OK"]


async def test_a_rolled_back_transaction_leaves_no_event(conn: Conn) -> None:
    audit = AuditRepository(conn)
    await audit.record(_event())
    await conn.rollback()
    assert (await audit.list(ListQuery(page_size=10))).items == []


async def test_filter_on_principal_method_resource_and_time_with_keyset_pages(conn: Conn) -> None:
    audit = AuditRepository(conn)
    for i in range(5):
        await audit.record(_event("ops" if i % 2 == 0 else "till", resource=f"products/{i}"))
    await audit.record(
        _event("ops", method="inventory.v1.UserService/AuthenticateUser", result="UNAUTHENTICATED")
    )
    page = await audit.list(ListQuery(page_size=2, filter='principal = "ops" AND method:"UpdateUser"'))
    assert [r.resource for r in page.items] == ["products/0", "products/2"]
    assert page.next_page_token
    rest = await audit.list(
        ListQuery(
            page_size=2,
            filter='principal = "ops" AND method:"UpdateUser"',
            page_token=page.next_page_token,
        )
    )
    assert [r.resource for r in rest.items] == ["products/4"]
    assert not rest.next_page_token
    assert [r.result for r in (await audit.list(ListQuery(filter='resource = "products/3"'))).items] == ["OK"]
    recent = await audit.list(
        ListQuery(filter='create_time > "2000-01-01T00:00:00Z"', order_by="create_time desc")
    )
    assert recent.items[0].result == "UNAUTHENTICATED"
    with pytest.raises(InvalidArgument):
        await audit.list(ListQuery(filter='changed_fields = "password"'))
