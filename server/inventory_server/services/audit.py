"""Recording audit events (``domain.audit``) and reading them back.

A change is recorded by the unit of work that makes it: ``audited(...)``
wraps the work so the row is written in the same transaction (a rolled-back
change leaves no row; a committed one always has its row). The identity comes
from ``inventory_server.context`` (principal, acting user, method), so the
services pass only what the context cannot know: the resource, the names of
the changed fields (never their values) and the request_id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol, TypeVar
from uuid import UUID

from inventory_server import context
from inventory_server.domain.audit import OK, AuditEvent, NewAuditEvent
from inventory_server.domain.errors import DomainError
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

log = logging.getLogger(__name__)


class HasId(Protocol):
    @property
    def id(self) -> UUID: ...


E = TypeVar("E", bound=HasId)


def event(
    resource: str,
    changed: Iterable[str] = (),
    *,
    request_id: str = "",
    result: str = OK,
    method: str | None = None,
    principal: str | None = None,
) -> NewAuditEvent:
    """An event for the current call (principal, acting user and method from the context)."""
    return NewAuditEvent(
        principal=context.principal.get() if principal is None else principal,
        acting_user=context.acting_user.get(),
        # As the policy names methods ("inventory.v1.X/Y"); the call context has gRPC's "/inventory.v1.X/Y".
        method=(context.method.get() if method is None else method).lstrip("/"),
        resource=resource,
        request_id=request_id,
        changed_fields=tuple(sorted(set(changed))),
        result=result,
    )


def audited(
    collection: str,
    work: Callable[[UnitOfWork], Awaitable[E]],
    changed: Iterable[str] = (),
    *,
    request_id: str = "",
) -> Callable[[UnitOfWork], Awaitable[E]]:
    """``work`` followed, in its unit of work, by the event for ``<collection>/<id of its result>``."""
    fields = tuple(changed)

    async def run(uow: UnitOfWork) -> E:
        done = await work(uow)
        await uow.audit.record(event(f"{collection}/{done.id}", fields, request_id=request_id))
        return done

    return run


def audited_many(
    collection: str,
    work: Callable[[UnitOfWork], Awaitable[Sequence[E]]],
    *,
    request_id: str = "",
) -> Callable[[UnitOfWork], Awaitable[list[E]]]:
    """Like ``audited`` for work that creates several resources: one event each."""

    async def run(uow: UnitOfWork) -> list[E]:
        done = list(await work(uow))
        for item in done:
            await uow.audit.record(event(f"{collection}/{item.id}", request_id=request_id))
        return done

    return run


class AuditService:
    """Reads the audit log, and records the events that are not part of a change (refused calls)."""

    def __init__(self, transactor: Transactor[UnitOfWork]) -> None:
        self.transactor = transactor

    async def list_events(self, query: ListQuery) -> Page[AuditEvent]:
        return await self.transactor.read(lambda uow: uow.audit.list(query))

    async def record_refusal(self, method: str, principal: str, code: str) -> None:
        """Record a refused call in its own transaction; a failure is logged, never raised.

        The refusal is answered whatever happens here: an unreachable database
        must not turn PERMISSION_DENIED into UNAVAILABLE.
        """
        refused = event("", method=method, principal=principal, result=code)
        try:
            await self.transactor.write(lambda uow: uow.audit.record(refused))
        except DomainError as error:
            log.warning("could not record the refusal of %s in the audit log: %s", method, error.reason)
