"""The append-only audit log over PostgreSQL (``audit_events``; a trigger refuses UPDATE/DELETE/TRUNCATE)."""

from __future__ import annotations

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.db.query import insert
from inventory_server.domain.audit import AuditEvent, NewAuditEvent
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.repositories.base import ReadRepository
from inventory_server.repositories.mapping import TableMapping

TABLE = "audit_events"

AUDIT_LIST_FIELDS = ResourceFields(
    TABLE,
    (
        FieldSpec("principal", "principal", "text"),
        FieldSpec("acting_user", "acting_user", "uuid"),
        FieldSpec("method", "method", "text"),
        FieldSpec("resource", "resource", "text"),
        FieldSpec("request_id", "request_id", "text"),
        FieldSpec("result", "result", "text"),
        FieldSpec("create_time", "create_time", "timestamp", sortable=True),
    ),
    key=(FieldSpec("id", "id", "uuid", filterable=False, sortable=False),),
    default_order="create_time",
    soft_delete_column=None,
)

AUDIT_MAPPING = TableMapping(
    table=TABLE,
    resource="audit_event",
    entity=AuditEvent,
    list_fields=AUDIT_LIST_FIELDS,
    convert={"changed_fields": tuple},
    version_column=None,
    update_time_column=None,
    soft_delete_column=None,
)


class AuditRepository(ReadRepository[AuditEvent]):
    """Record and list audit events; there is no update or delete."""

    mapping = AUDIT_MAPPING

    async def record(self, event: NewAuditEvent) -> None:
        """INSERT one row (id and create_time from the database), in the caller's transaction."""
        with self.operation("record"):
            values = {
                "principal": event.principal,
                "acting_user": event.acting_user,
                "method": event.method,
                "resource": event.resource,
                "request_id": event.request_id,
                "changed_fields": list(event.changed_fields),
                "result": event.result,
            }
            await self.execute(insert(TABLE).values(values))

    async def list(self, query: ListQuery) -> Page[AuditEvent]:
        """One keyset page in one statement, ordered by (create_time, id) either way."""
        return await self.list_page(query)
