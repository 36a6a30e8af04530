"""AuditService servicer: audit events to proto (the log is read-only through the API)."""

from __future__ import annotations

from typing import Any

from grpc import aio

from inventory_client.v1 import audit_pb2 as pb
from inventory_client.v1 import audit_pb2_grpc
from inventory_server.api.convert import timestamp
from inventory_server.api.page_tokens import PageTokens
from inventory_server.domain.audit import AuditEvent
from inventory_server.domain.paging import ListQuery
from inventory_server.services.audit import AuditService

Context = aio.ServicerContext[Any, Any]


def event_to_proto(row: AuditEvent) -> pb.AuditEvent:
    return pb.AuditEvent(
        id=str(row.id),
        create_time=timestamp(row.create_time),
        principal=row.principal,
        acting_user="" if row.acting_user is None else str(row.acting_user),
        method=row.method,
        resource=row.resource,
        request_id=row.request_id,
        changed_fields=list(row.changed_fields),
        result=row.result,
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """Implements inventory.v1.AuditService over ``AuditService``."""

    def __init__(self, audit: AuditService, *, page_tokens: PageTokens) -> None:
        self.audit = audit
        self.page_tokens = page_tokens

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: Context
    ) -> pb.ListAuditEventsResponse:
        query = ListQuery.from_request(
            request.page_size, self.page_tokens.open(request.page_token), request.filter, request.order_by
        )
        page = await self.audit.list_events(query)
        return pb.ListAuditEventsResponse(
            events=[event_to_proto(row) for row in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )
