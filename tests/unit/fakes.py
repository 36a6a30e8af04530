"""In-memory fakes for the services' unit tests: unit of work, repositories, transactor, hasher.

``FakeDatabase`` holds the data (catalogue, stock, ledger, change stream, open
reservations); ``FakeUnitOfWork`` puts repositories over it
that keep the real ones' contracts (``repositories.interfaces`` and
``repositories.stock_interfaces``): the same domain errors, guarded changes
that refuse to break ``0 <= reserved <= on_hand``, unknown or deleted
references NotFound. ``FakeTransactor`` runs work as the real
``TransactionManager`` does: a write unit commits when the work returns and
is rolled back (the data restored from a snapshot) when it raises; a read
unit commits nothing. mypy checks that ``FakeUnitOfWork`` satisfies
``services.unit_of_work.UnitOfWork`` wherever a fake transactor is handed to
a service.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import dataclasses
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from argon2 import PasswordHasher, Type

from inventory_server.db.query import Condition
from inventory_server.domain.audit import AuditEvent, NewAuditEvent
from inventory_server.domain.errors import (
    AlreadyExists,
    Deleted,
    DomainError,
    EtagMismatch,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)
from inventory_server.domain.login_throttle import ThrottleKey
from inventory_server.domain.movement_summary import Grouping, MovementSummary, TypeTotal
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.product import NewProduct, Product
from inventory_server.domain.reservations import ClaimedReservation, DueReservation, OpenReservation
from inventory_server.domain.stock import LevelKey, Reservation, StockLevel
from inventory_server.domain.stock_changes import ChangeBatch, StockChange, StreamBounds
from inventory_server.domain.transaction import NewTransaction, StockTransaction, TransactionType
from inventory_server.domain.user import NewUser, Role, StoredCredentials, User
from inventory_server.domain.warehouse import NewWarehouse, Warehouse
from inventory_server.repositories import interfaces
from inventory_server.repositories.database_stats import DatabaseFigures
from inventory_server.repositories.product_import import DELETED_REASON, DUPLICATE_REASON, StagedRow
from inventory_server.repositories.stock_interfaces import LevelLookup, LevelMove, LevelMoveOutcome, Reference
from inventory_server.services.stock import StockService

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V", bound=Product | Warehouse | User)
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# The fields of FakeDatabase that a rolled-back write unit restores (the rest are test hooks).
DATA = (
    "products",
    "warehouses",
    "users",
    "password_hashes",
    "idempotency_keys",
    "levels",
    "ledger",
    "audit_events",
    "login_failures",
    "stock_changes",
    "purged_through",
    "reservations",
)


@dataclass
class FakeDatabase:
    """The data every fake repository reads and writes, plus a few hooks for tests."""

    products: dict[UUID, Product] = field(default_factory=dict)
    warehouses: dict[UUID, Warehouse] = field(default_factory=dict)
    users: dict[UUID, User] = field(default_factory=dict)
    password_hashes: dict[UUID, str] = field(default_factory=dict)
    # (scope, request_id) -> (fingerprint, response or None while claimed)
    idempotency_keys: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    levels: dict[LevelKey, StockLevel] = field(default_factory=dict)
    ledger: list[StockTransaction] = field(default_factory=list)
    audit_events: list[AuditEvent] = field(default_factory=list)
    # throttle key -> failures counted (the fake has no windows: tests reset it by hand)
    login_failures: dict[str, int] = field(default_factory=dict)
    # Seconds a key reaching its limit stays blocked, as the fake reports it.
    blocked_seconds: float = 60.0
    # The change stream: committed changes by position, and the highest position purged.
    stock_changes: list[StockChange] = field(default_factory=list)
    purged_through: int = 0
    # Open reservations by id, each with who reserved (what an expiry release is performed by).
    reservations: dict[UUID, tuple[OpenReservation, UUID]] = field(default_factory=dict)
    ticks: int = 0  # the clock moves on even when a unit rolls back
    # Test hooks (not data): product reads as they happen; a get that waits on ``hold``
    # after reading its row; an error replace_password_hash raises.
    product_reads: int = 0
    product_read_ids: list[UUID] = field(default_factory=list)
    hold: asyncio.Event | None = None
    fail_rehash: DomainError | None = None
    change_reads: int = 0  # read_after calls on the change stream
    # What the database says about itself (Stats).
    database_figures: DatabaseFigures | None = None
    server_version: str = ""
    schema_version: str = ""

    def now(self) -> datetime:
        self.ticks += 1
        return EPOCH + timedelta(milliseconds=self.ticks)

    def snapshot(self) -> dict[str, Any]:
        return {name: copy.deepcopy(getattr(self, name)) for name in DATA}

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name in DATA:
            setattr(self, name, copy.deepcopy(snapshot[name]))

    def add(self, resource: str, *, deleted: bool = False) -> UUID:
        """A product, warehouse or user with made-up fields; its id."""
        id = uuid.uuid4()
        moment = self.now()
        gone = moment if deleted else None
        tag = id.hex[:8]
        if resource == "product":
            self.products[id] = Product(id, f"SKU-{tag}", tag, "", 0, "", 0, {}, moment, moment, gone, 1)
        elif resource == "warehouse":
            self.warehouses[id] = Warehouse(id, f"WH-{tag}", tag, "", moment, moment, gone, 1)
        elif resource == "user":
            self.users[id] = User(id, f"{tag}@example.com", tag, Role.VIEWER, moment, moment, gone, 1)
        else:
            raise ValueError(resource)
        return id

    def rows_of(self, resource: str) -> Mapping[UUID, Product | Warehouse | User]:
        tables: dict[str, Mapping[UUID, Product | Warehouse | User]] = {
            "product": self.products,
            "warehouse": self.warehouses,
            "user": self.users,
        }
        return tables[resource]


class CountingHasher(PasswordHasher):
    """argon2id with tiny costs (fast tests) that records which hashes it verified, and where."""

    def __init__(self, time_cost: int = 1) -> None:
        super().__init__(time_cost=time_cost, memory_cost=8, parallelism=1, type=Type.ID)
        self.verified: list[str] = []
        self.hashed = 0
        self.threads: set[int] = set()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        self.threads.add(threading.get_ident())
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        self.threads.add(threading.get_ident())
        return super().verify(hash, password)


def _page(items: builtins.list[V], query: ListQuery) -> Page[V]:
    """Creation order only; the fakes parse no filters (the real list translator has its own tests)."""
    if query.filter or query.order_by or query.page_token:
        raise NotImplementedError("the fakes list in creation order only")
    shown = [item for item in items if query.show_deleted or item.delete_time is None]
    return Page(shown[: query.page_size])


class _Versioned(Generic[V]):
    """get / update / soft_delete / undelete with the real repositories' errors, over one dict."""

    resource = ""

    def __init__(self, db: FakeDatabase, rows: dict[UUID, V]) -> None:
        self.db = db
        self.rows: dict[UUID, V] = rows

    async def get(self, id: UUID, *, for_update: bool = False) -> V:
        if id not in self.rows:
            raise NotFound(self.resource, str(id))
        return self.rows[id]

    async def list(self, query: ListQuery) -> Page[V]:
        return _page(builtins.list(self.rows.values()), query)

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> V:
        current = self._checked(id, expected_version)
        if self.holds_stock(id):
            raise self.delete_refused(id)
        return self._put(current, delete_time=self.db.now())

    async def undelete(self, id: UUID, *, expected_version: int | None) -> V:
        return self._put(self._checked(id, expected_version), delete_time=None)

    def holds_stock(self, id: UUID) -> bool:
        return False

    def delete_refused(self, id: UUID) -> DomainError:
        return FailedPrecondition(
            f"{self.resource} {str(id)!r} still holds stock",
            reason="STOCK_ON_HAND",
            violations=[PreconditionViolation("STOCK", f"{self.resource}s/{id}", "empty it first")],
        )

    def _checked(self, id: UUID, expected_version: int | None) -> V:
        if id not in self.rows:
            raise NotFound(self.resource, str(id))
        current = self.rows[id]
        if expected_version is not None and current.version != expected_version:
            raise EtagMismatch(self.resource, str(id))
        return current

    def _changeable(self, id: UUID, expected_version: int | None) -> V:
        """Like the real update: a soft-deleted row cannot be changed (Deleted)."""
        current = self._checked(id, expected_version)
        if current.delete_time is not None:
            raise Deleted(self.resource, str(id))
        return current

    def _put(self, current: V, **changes: Any) -> V:
        changed = dataclasses.replace(
            current, **changes, update_time=self.db.now(), version=current.version + 1
        )
        self.rows[current.id] = changed
        return changed


class FakeProducts(_Versioned[Product]):
    resource = "product"

    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db, db.products)

    async def get(self, id: UUID, *, for_update: bool = False) -> Product:
        self.db.product_reads += 1
        self.db.product_read_ids.append(id)
        row = self.rows.get(id)  # the snapshot this read sees
        if self.db.hold is not None:
            await self.db.hold.wait()
        if row is None:
            raise NotFound("product", str(id))
        return row

    async def get_many(self, ids: Sequence[UUID]) -> builtins.list[Product]:
        self.db.product_reads += 1
        self.db.product_read_ids.extend(ids)
        return [self.rows[i] for i in dict.fromkeys(ids) if i in self.rows]

    async def create(self, new: NewProduct) -> Product:
        return (await self.create_many([new]))[0]

    async def create_many(self, news: Sequence[NewProduct]) -> builtins.list[Product]:
        created = []
        for new in news:
            if any(p.sku.lower() == new.sku.lower() for p in self.rows.values()):
                raise AlreadyExists("product", "sku", new.sku)
            moment = self.db.now()
            product = Product(
                uuid.uuid4(),
                **dataclasses.asdict(new),
                create_time=moment,
                update_time=moment,
                delete_time=None,
                version=1,
            )
            self.rows[product.id] = product
            created.append(product)
        return created

    async def create_once(
        self, new: NewProduct, *, id: UUID, claim: interfaces.Claim, response: dict[str, Any]
    ) -> Product | None:
        key = (claim.scope, claim.request_id)
        if key in self.db.idempotency_keys:  # INSERT ... ON CONFLICT DO NOTHING returned no row
            return None
        self.db.idempotency_keys[key] = (claim.fingerprint, response)
        created = dataclasses.replace((await self.create_many([new]))[0], id=id)
        self.rows.pop(next(k for k, p in self.rows.items() if p.sku == new.sku))
        self.rows[id] = created
        return created

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> Product:
        return self._put(self._changeable(id, expected_version), **changes)

    def holds_stock(self, id: UUID) -> bool:
        return any(key.product_id == id and level.on_hand > 0 for key, level in self.db.levels.items())


class FakeWarehouses(_Versioned[Warehouse]):
    resource = "warehouse"

    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db, db.warehouses)

    async def create(self, new: NewWarehouse) -> Warehouse:
        if any(w.code.lower() == new.code.lower() for w in self.rows.values()):
            raise AlreadyExists("warehouse", "code", new.code)
        moment = self.db.now()
        created = Warehouse(uuid.uuid4(), new.code, new.name, new.address, moment, moment, None, 1)
        self.rows[created.id] = created
        return created

    async def update(
        self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None
    ) -> Warehouse:
        return self._put(self._changeable(id, expected_version), **changes)

    def holds_stock(self, id: UUID) -> bool:
        return any(
            key.warehouse_id == id and (level.on_hand > 0 or level.reserved > 0)
            for key, level in self.db.levels.items()
        )


class FakeUsers(_Versioned[User]):
    """Users and their hashes, with the real repository's email rules."""

    resource = "user"

    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db, db.users)

    async def create(self, new: NewUser, password_hash: str) -> User:
        self._check_email_free(new.email, None)
        moment = self.db.now()
        role = new.role if new.role is not None else Role.VIEWER
        user = User(uuid.uuid4(), new.email, new.display_name, role, moment, moment, None, 1)
        self.rows[user.id] = user
        self.db.password_hashes[user.id] = password_hash
        return user

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> User:
        current = self._changeable(id, expected_version)
        profile = {k: v for k, v in changes.items() if k != "password_hash"}
        if "email" in profile:
            self._check_email_free(str(profile["email"]), id)
        if "password_hash" in changes:
            self.db.password_hashes[id] = str(changes["password_hash"])
        return self._put(current, **profile)

    async def credentials(self, email: str) -> StoredCredentials | None:
        for user in self.rows.values():
            if user.email.lower() == email.lower() and not user.deleted:
                return StoredCredentials(user, self.db.password_hashes[user.id])
        return None

    async def replace_password_hash(self, id: UUID, old_hash: str, new_hash: str) -> bool:
        if self.db.fail_rehash is not None:
            raise self.db.fail_rehash
        if self.db.password_hashes.get(id) != old_hash:
            return False
        self.db.password_hashes[id] = new_hash
        return True

    def _check_email_free(self, email: str, owner: UUID | None) -> None:
        for user in self.rows.values():
            if user.email.lower() == email.lower() and user.id != owner:
                raise AlreadyExists("user", "email", email)


class FakeIdempotency:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def claim(self, scope: str, request_id: str, fingerprint: str) -> dict[str, Any] | None:
        stored = self.db.idempotency_keys.get((scope, request_id))
        if stored is None:
            self.db.idempotency_keys[(scope, request_id)] = (fingerprint, None)
            return None
        if stored[0] != fingerprint:
            raise InvalidArgument.field("request_id", "was already used for a different request")
        return stored[1]

    async def store(self, scope: str, request_id: str, response: dict[str, Any]) -> None:
        fingerprint, response_before = self.db.idempotency_keys[(scope, request_id)]
        if response_before is not None:
            raise RuntimeError(f"store() for {scope}/{request_id} without a claim in this transaction")
        self.db.idempotency_keys[(scope, request_id)] = (fingerprint, response)

    async def purge_older_than(self, age: timedelta, *, limit: int | None = None) -> int:
        raise NotImplementedError("keys carry no creation time in the fake; see the integration tests")


class FakeStockLevels:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def read(
        self, product_id: UUID, warehouse_id: UUID, *, read_time: datetime | None = None
    ) -> LevelLookup:
        if read_time is not None:
            raise NotImplementedError(
                "the fake keeps no history (repositories/stock_history.py has its tests)"
            )
        return LevelLookup(
            product_id in self.db.products,
            warehouse_id in self.db.warehouses,
            self.db.levels.get(LevelKey(warehouse_id, product_id)),
        )

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: UUID | None = None,
        warehouse_id: UUID | None = None,
        below_reorder_point: bool = False,
        read_time: datetime | None = None,
    ) -> Page[StockLevel]:
        """Key order only; the fake parses no filters (the real translator has its own tests)."""
        if query.filter or query.order_by or query.page_token or below_reorder_point or read_time:
            raise NotImplementedError("the fake lists by key only")
        levels = [
            level
            for key, level in sorted(self.db.levels.items())
            if product_id in (None, key.product_id) and warehouse_id in (None, key.warehouse_id)
        ]
        return Page(levels[: query.page_size])

    async def add(self, key: LevelKey, quantity: int) -> StockLevel:
        self._require_catalogue(key)
        current = self.db.levels.get(key, StockLevel(key.product_id, key.warehouse_id))
        return self._put(dataclasses.replace(current, on_hand=current.on_hand + quantity))

    async def change(self, key: LevelKey, *, on_hand: int = 0, reserved: int = 0) -> StockLevel | None:
        current = self.db.levels.get(key)
        if current is None or not current.allows(on_hand=on_hand, reserved=reserved):
            return None
        return self._put(
            dataclasses.replace(
                current, on_hand=current.on_hand + on_hand, reserved=current.reserved + reserved
            )
        )

    async def ensure(self, key: LevelKey) -> None:
        self._require_catalogue(key)
        if key not in self.db.levels:
            self.db.levels[key] = StockLevel(key.product_id, key.warehouse_id, update_time=self.db.now())

    async def lock(self, keys: Sequence[LevelKey]) -> dict[LevelKey, StockLevel]:
        return {key: self.db.levels[key] for key in sorted(set(keys)) if key in self.db.levels}

    def _put(self, level: StockLevel) -> StockLevel:
        stamped = dataclasses.replace(level, update_time=self.db.now())
        self.db.levels[level.key] = stamped
        return stamped

    def _require_catalogue(self, key: LevelKey) -> None:
        """The foreign keys: rows must exist (deleted or not)."""
        for kind, id in (("product", key.product_id), ("warehouse", key.warehouse_id)):
            if id not in self.db.rows_of(kind):
                raise NotFound(kind, str(id))


class FakeLedger:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.document_id: UUID | None = None  # like the transaction-local setting: one per unit

    async def tag_document(self, document_id: UUID) -> None:
        self.document_id = document_id

    async def append(self, new: NewTransaction) -> StockTransaction:
        values = {f.name: getattr(new, f.name) for f in dataclasses.fields(new)}
        values["document_id"] = self.document_id
        row = StockTransaction(**values, id=uuid.uuid4(), create_time=self.db.now())
        self.db.ledger.append(row)
        held = self.db.reservations.get(new.reservation_id) if new.reservation_id is not None else None
        if held is not None and new.type is TransactionType.RELEASE:  # the open_reservations view
            reservation, performed_by = held
            remaining = reservation.remaining - new.quantity
            if remaining > 0:
                self.db.reservations[reservation.id] = (
                    dataclasses.replace(reservation, remaining=remaining),
                    performed_by,
                )
            else:
                del self.db.reservations[reservation.id]
        return row

    async def get(self, id: UUID, *, for_update: bool = False) -> StockTransaction:
        for row in self.db.ledger:
            if row.id == id:
                return row
        raise NotFound("transaction", str(id))

    async def list(self, query: ListQuery) -> Page[StockTransaction]:
        if query.filter or query.order_by or query.page_token:
            raise NotImplementedError("the fake lists in order of writing only")
        return Page(self.db.ledger[: query.page_size])

    async def summarize(
        self, grouping: Grouping, start: datetime, end: datetime, query: ListQuery
    ) -> Page[MovementSummary]:
        if query.filter or query.page_token:
            raise NotImplementedError("the fake summarizes one unfiltered page only")
        moves: dict[tuple[UUID | None, UUID | None], dict[tuple[TransactionType, str], int]] = {}
        for row in self.db.ledger:
            if not start <= row.create_time < end:
                continue
            for warehouse_id, side in ((row.to_warehouse_id, "in"), (row.from_warehouse_id, "out")):
                if warehouse_id is None:
                    continue
                key = (
                    row.product_id if "product_id" in grouping.value else None,
                    warehouse_id if "warehouse_id" in grouping.value else None,
                )
                totals = moves.setdefault(key, {})
                totals[row.type, side] = totals.get((row.type, side), 0) + row.quantity
        on_hand_in = (TransactionType.RECEIPT, TransactionType.TRANSFER, TransactionType.ADJUSTMENT)
        on_hand_out = (TransactionType.SHIPMENT, TransactionType.TRANSFER, TransactionType.ADJUSTMENT)
        summaries = [
            MovementSummary(
                product_id,
                warehouse_id,
                total_in=sum(totals.get((kind, "in"), 0) for kind in on_hand_in),
                total_out=sum(totals.get((kind, "out"), 0) for kind in on_hand_out),
                by_type=[
                    TypeTotal(kind, totals.get((kind, "in"), 0), totals.get((kind, "out"), 0))
                    for kind in TransactionType
                    if (kind, "in") in totals or (kind, "out") in totals
                ],
            )
            for (product_id, warehouse_id), totals in sorted(
                moves.items(), key=lambda item: (str(item[0][1]), str(item[0][0]))
            )
        ]
        return Page(summaries[: query.page_size])

    async def get_reservation(self, id: UUID) -> Reservation:
        for row in self.db.ledger:
            if row.id == id and row.type is TransactionType.RESERVATION and row.from_warehouse_id is not None:
                consumed = sum(r.quantity for r in self.db.ledger if r.reservation_id == id)
                return Reservation(row.id, row.product_id, row.from_warehouse_id, row.quantity, consumed)
        raise NotFound("reservation", str(id))

    async def ensure_live(self, references: Sequence[Reference]) -> None:
        for ref in references:
            row = self.db.rows_of(ref.resource).get(ref.id)
            if row is None or row.delete_time is not None:
                raise NotFound(ref.resource, str(ref.id), message=f"{ref.field}: {ref.resource} not found")


class FakeStockMoves:
    """``StockMoveRepository.apply`` as the real statement behaves: all of it, or nothing but the claim."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def apply(self, move: LevelMove) -> LevelMoveOutcome:
        if move.claim is not None:
            key = (move.claim.scope, move.claim.request_id)
            if key in self.db.idempotency_keys:  # INSERT ... ON CONFLICT DO NOTHING returned no row
                return LevelMoveOutcome(claimed=False)
            self.db.idempotency_keys[key] = (move.claim.fingerprint, None)
        for ref in move.references:
            referenced = self.db.rows_of(ref.resource).get(ref.id)
            if referenced is None or referenced.delete_time is not None:
                return LevelMoveOutcome(claimed=True, missing=ref)
        levels = FakeStockLevels(self.db)
        if move.upsert:
            level: StockLevel | None = await levels.add(move.key, move.on_hand)
        else:
            level = await levels.change(move.key, on_hand=move.on_hand, reserved=move.reserved)
        if level is None:
            return LevelMoveOutcome(claimed=True)
        written = await FakeLedger(self.db).append(move.row)
        return LevelMoveOutcome(claimed=True, level=level, transaction=written)


class FakeProductImport:
    """One unit's staging rows; the same marking and merging rules as the SQL."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.staged: dict[int, tuple[StagedRow, str | None]] | None = None  # index -> (row, rejection)

    async def create_staging(self) -> None:
        self.staged = {}

    async def copy(self, rows: Sequence[StagedRow]) -> None:
        staged = self._staging()
        for row in rows:
            staged[row[0]] = (row, None)

    async def analyze(self) -> None:
        self._staging()

    async def reject_duplicates(self) -> int:
        staged = self._staging()
        first: dict[str, int] = {}
        for index in sorted(staged):
            first.setdefault(staged[index][0][1].lower(), index)
        marked = 0
        for index, (row, _) in staged.items():
            if first[row[1].lower()] != index:
                staged[index] = (row, DUPLICATE_REASON + str(first[row[1].lower()]))
                marked += 1
        return marked

    async def reject_deleted(self) -> int:
        staged = self._staging()
        deleted = {p.sku.lower() for p in self.db.products.values() if p.delete_time is not None}
        marked = 0
        for index, (row, rejection) in staged.items():
            if rejection is None and row[1].lower() in deleted:
                staged[index] = (row, DELETED_REASON)
                marked += 1
        return marked

    async def rejected(self, limit: int) -> builtins.list[tuple[int, str, str]]:
        staged = self._staging()
        marked = [(i, row[1], reason) for i, (row, reason) in sorted(staged.items()) if reason is not None]
        return marked[:limit]

    async def merge(self, chunk_rows: int = 0) -> tuple[int, int]:
        by_sku = {p.sku.lower(): p for p in self.db.products.values()}
        products = FakeProducts(self.db)
        inserted = updated = 0
        valid = [row for row, reason in self._staging().values() if reason is None]
        for _, sku, name, description, price, currency, reorder, attributes in sorted(
            valid, key=lambda row: row[1].lower()
        ):
            values: dict[str, Any] = {
                "name": name,
                "description": description,
                "unit_price_minor": price,
                "currency_code": currency,
                "reorder_point": reorder,
                "attributes": dict(attributes.obj),
            }
            existing = by_sku.get(sku.lower())
            if existing is None:
                await products.create(NewProduct(sku, **values))
                inserted += 1
            else:
                products._put(existing, **values)
                updated += 1
        return inserted, updated

    def _staging(self) -> dict[int, tuple[StagedRow, str | None]]:
        if self.staged is None:
            raise RuntimeError("no staging table in this unit of work")
        return self.staged


class FakeAudit:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def record(self, event: NewAuditEvent) -> None:
        values = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
        self.db.audit_events.append(AuditEvent(id=uuid.uuid4(), create_time=self.db.now(), **values))

    async def list(self, query: ListQuery) -> Page[AuditEvent]:
        if query.filter or query.order_by or query.page_token:
            raise NotImplementedError("the fake lists in order of writing only")
        return Page(self.db.audit_events[: query.page_size])


class FakeLoginThrottle:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def blocked_for(self, keys: Sequence[ThrottleKey]) -> float:
        blocked = any(self.db.login_failures.get(k.key, 0) >= k.limit for k in keys)
        return self.db.blocked_seconds if blocked else 0.0

    async def record_failure(self, keys: Sequence[ThrottleKey], window_seconds: float) -> None:
        for key in keys:
            self.db.login_failures[key.key] = self.db.login_failures.get(key.key, 0) + 1

    async def clear(self, key: ThrottleKey) -> None:
        self.db.login_failures.pop(key.key, None)


class FakeDatabaseStats:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def figures(self) -> tuple[DatabaseFigures | None, str]:
        return self.db.database_figures, self.db.server_version

    async def schema_version(self) -> str:
        return self.db.schema_version


class FakeStockChanges:
    """The change stream over ``FakeDatabase.stock_changes``; no filters (the real translator has tests)."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def bounds(self) -> StreamBounds:
        changes = self.db.stock_changes
        latest = changes[-1].position if changes else self.db.purged_through
        return StreamBounds(self.db.purged_through, latest)

    async def read_after(self, after: int, condition: Condition | None, limit: int) -> ChangeBatch:
        if condition is not None:
            raise NotImplementedError("the fake reads unfiltered only")
        self.db.change_reads += 1
        rows = [c for c in self.db.stock_changes if c.position > after][:limit]
        if not rows:
            return ChangeBatch([], None, 0, full=False)
        return ChangeBatch(rows, rows[-1].position, self.db.purged_through, full=len(rows) >= limit)

    async def purge_older_than(self, retention: timedelta, *, limit: int) -> int:
        horizon = self.db.now() - retention
        gone = [c for c in self.db.stock_changes if c.transaction.create_time < horizon][:limit]
        if gone:
            self.db.purged_through = max(self.db.purged_through, gone[-1].position)
            self.db.stock_changes = [c for c in self.db.stock_changes if c not in gone]
        return len(gone)

    def commit(self, count: int) -> None:
        """Test helper: ``count`` more committed receipts at the next positions."""
        changes = self.db.stock_changes
        start = changes[-1].position if changes else self.db.purged_through
        for n in range(count):
            row = StockTransaction(
                id=uuid.uuid4(),
                type=TransactionType.RECEIPT,
                product_id=UUID(int=1),
                to_warehouse_id=UUID(int=2),
                quantity=1,
                performed_by=UUID(int=3),
                request_id=f"r{start + n + 1}",
                create_time=self.db.now(),
            )
            changes.append(StockChange(position=start + n + 1, transaction=row, levels=()))


class FakeReservations:
    """Open reservations; due by the fake clock. Releasing one is the ledger's RELEASE row."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def list(self, query: ListQuery) -> Page[OpenReservation]:
        if query.filter or query.order_by or query.page_token:
            raise NotImplementedError("the fake lists in creation order only")
        return Page([r for r, _ in self.db.reservations.values()][: query.page_size])

    async def due(self, limit: int) -> Sequence[DueReservation]:
        now = self.db.now()
        due = sorted(
            (r for r, _ in self.db.reservations.values() if self._expired(r, now)),
            key=lambda r: (r.expire_time, r.id),
        )
        return [DueReservation(LevelKey(o.warehouse_id, o.product_id), o.id) for o in due[:limit]]

    async def claim_expired(self, id: UUID) -> ClaimedReservation | None:
        stored = self.db.reservations.get(id)
        if stored is None or not self._expired(stored[0], self.db.now()):
            return None
        return ClaimedReservation(stored[0].remaining, stored[1])

    @staticmethod
    def _expired(r: OpenReservation, now: datetime) -> bool:
        return r.expire_time is not None and r.expire_time <= now


class FakeUnitOfWork:
    """Every fake repository over one FakeDatabase (built per unit, like the real ones)."""

    def __init__(self, db: FakeDatabase) -> None:
        self.products = FakeProducts(db)
        self.product_import = FakeProductImport(db)
        self.warehouses = FakeWarehouses(db)
        self.users = FakeUsers(db)
        self.idempotency = FakeIdempotency(db)
        self.stock_levels = FakeStockLevels(db)
        self.transactions = FakeLedger(db)
        self.stock_moves = FakeStockMoves(db)
        self.audit = FakeAudit(db)
        self.login_throttle = FakeLoginThrottle(db)
        self.stock_changes = FakeStockChanges(db)
        self.reservations = FakeReservations(db)
        # Typed as the protocol: a test may put the real repository over a scripted connection here.
        self.database_stats: interfaces.DatabaseStatsRepository = FakeDatabaseStats(db)


class FakeTransactor(Generic[U]):
    """Runs work like ``TransactionManager``; records each unit as "read", "commit" or "rollback".

    ``rerun_first`` makes the first attempt of every write roll back after the
    work finished and run it again, as the real manager does after a deadlock.
    """

    def __init__(
        self, db: FakeDatabase, unit_of_work: Callable[[FakeDatabase], U], *, rerun_first: bool = False
    ) -> None:
        self.db = db
        self.unit_of_work = unit_of_work
        self.rerun_first = rerun_first
        self.attempts = 0
        self.units: list[str] = []
        self.retryable: list[bool] = []

    async def read(
        self, work: Callable[[U], Awaitable[T]], *, retryable: bool = True, replica_ok: bool = False
    ) -> T:
        self.attempts += 1
        self.units.append("read")
        self.retryable.append(retryable)
        return await work(self.unit_of_work(self.db))

    async def write(self, work: Callable[[U], Awaitable[T]], *, retryable: bool = True) -> T:
        self.retryable.append(retryable)
        attempts = 2 if self.rerun_first and retryable else 1
        for attempt in range(1, attempts + 1):
            self.attempts += 1
            snapshot = self.db.snapshot()
            try:
                result = await work(self.unit_of_work(self.db))
            except BaseException:
                self.db.restore(snapshot)
                self.units.append("rollback")
                raise
            if attempt < attempts:
                self.db.restore(snapshot)  # as if the commit had deadlocked
                continue
            self.units.append("commit")
            return result
        raise AssertionError("unreachable")


Fakes = FakeTransactor[FakeUnitOfWork]


def fake_transactor(db: FakeDatabase | None = None, *, rerun_first: bool = False) -> Fakes:
    """A transactor over fakes of every repository (a fresh FakeDatabase unless one is given)."""
    return FakeTransactor(db if db is not None else FakeDatabase(), FakeUnitOfWork, rerun_first=rerun_first)


@dataclass
class StockWorld:
    """A stock service over fakes with one product, three warehouses and a user."""

    db: FakeDatabase
    transactor: Fakes
    service: StockService
    product: UUID
    warehouses: tuple[UUID, UUID, UUID]
    user: UUID

    @property
    def warehouse(self) -> UUID:
        return self.warehouses[0]

    def level(self, warehouse: UUID | None = None) -> StockLevel:
        key = LevelKey(warehouse or self.warehouse, self.product)
        return self.db.levels.get(key, StockLevel(self.product, key.warehouse_id))


def make_world(*, rerun_first: bool = False) -> StockWorld:
    transactor = fake_transactor(rerun_first=rerun_first)
    db = transactor.db
    warehouses = (db.add("warehouse"), db.add("warehouse"), db.add("warehouse"))
    return StockWorld(db, transactor, StockService(transactor), db.add("product"), warehouses, db.add("user"))
