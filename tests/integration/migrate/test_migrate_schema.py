"""The real migrations/: a full up-down-up cycle and the invariants the schema enforces."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import errors

from inventory_server.migrate import DEFAULT_MIGRATIONS_DIR, migrate_database
from inventory_server.migrate.files import discover

from .migrate_helpers import CliResult, catalog_snapshot, history, query, user_tables

REAL_VERSIONS = [m.version for m in discover(DEFAULT_MIGRATIONS_DIR)]


def test_migrate_rollback_everything_and_migrate_again_gives_the_same_schema(
    empty_dsn: str, cli: Callable[..., CliResult]
) -> None:
    first = cli(empty_dsn, DEFAULT_MIGRATIONS_DIR, "migrate")
    assert first.code == 0, first.text
    status = cli(empty_dsn, DEFAULT_MIGRATIONS_DIR, "status", "--json")
    document = json.loads(status.out)
    assert [m["version"] for m in document["migrations"]] == REAL_VERSIONS
    assert {m["state"] for m in document["migrations"]} == {"applied"}
    assert document["problems"] == []
    snapshot = catalog_snapshot(empty_dsn)

    down = cli(empty_dsn, DEFAULT_MIGRATIONS_DIR, "rollback", "--version", str(REAL_VERSIONS[0]))
    assert down.code == 0, down.text
    assert user_tables(empty_dsn) == ["schema_migrations"]
    assert history(empty_dsn) == []
    assert query(empty_dsn, "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace") == []

    again = cli(empty_dsn, DEFAULT_MIGRATIONS_DIR, "migrate")
    assert again.code == 0, again.text
    assert catalog_snapshot(empty_dsn) == snapshot
    assert [row[0] for row in history(empty_dsn)] == REAL_VERSIONS


def test_migrate_database_is_idempotent(empty_dsn: str) -> None:
    assert migrate_database(empty_dsn) == len(REAL_VERSIONS)
    assert migrate_database(empty_dsn) == 0


def test_every_index_of_the_concurrent_migration_is_valid(migrated_dsn: str) -> None:
    names = {
        row[0] for row in query(migrated_dsn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    }
    assert {"products_sku_key", "warehouses_code_key", "users_email_key", "products_create_time_idx"} <= names
    assert query(migrated_dsn, "SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid") == []


def test_transaction_types_are_seeded(migrated_dsn: str) -> None:
    codes = [row[0] for row in query(migrated_dsn, "SELECT code FROM transaction_types ORDER BY code")]
    assert codes == ["adjustment", "receipt", "release", "reservation", "shipment", "transfer"]


@pytest.fixture
def conn(migrated_dsn: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(migrated_dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def ids(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, uuid.UUID]:
    """A product, two warehouses, a user and a receipt of 10 into the first warehouse."""

    def insert(sql: str, params: tuple[object, ...]) -> uuid.UUID:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    product = insert("INSERT INTO products (sku, name) VALUES ('SKU-1', 'Bolt') RETURNING id", ())
    north = insert("INSERT INTO warehouses (code, name) VALUES ('NORTH', 'North') RETURNING id", ())
    south = insert("INSERT INTO warehouses (code, name) VALUES ('SOUTH', 'South') RETURNING id", ())
    user = insert(
        "INSERT INTO users (email, role, password_hash)"
        " VALUES ('Clerk@Example.com', 'clerk', 'x') RETURNING id",
        (),
    )
    conn.execute(
        "INSERT INTO stock_levels (product_id, warehouse_id, on_hand) VALUES (%s, %s, 10)", (product, north)
    )
    ledger = insert(
        "INSERT INTO stock_transactions (type, product_id, to_warehouse_id, quantity, performed_by,"
        " request_id) VALUES ('receipt', %s, %s, 10, %s, 'r1') RETURNING id",
        (product, north, user),
    )
    return {"product": product, "north": north, "south": south, "user": user, "ledger": ledger}


def violated_constraint(
    conn: psycopg.Connection[tuple[object, ...]], sql: str, params: tuple[object, ...]
) -> str:
    with pytest.raises(psycopg.errors.IntegrityError) as raised:
        conn.execute(sql, params)
    return str(raised.value.diag.constraint_name)


@pytest.mark.parametrize(
    ("on_hand", "reserved", "constraint"),
    [
        (-1, 0, "stock_levels_on_hand_nonnegative"),
        (5, 6, "stock_levels_reserved_range"),
        (5, -1, "stock_levels_reserved_range"),
    ],
)
def test_stock_level_invariants_reject_bad_rows(
    conn: psycopg.Connection[tuple[object, ...]],
    ids: dict[str, uuid.UUID],
    on_hand: int,
    reserved: int,
    constraint: str,
) -> None:
    sql = "UPDATE stock_levels SET on_hand = %s, reserved = %s WHERE product_id = %s AND warehouse_id = %s"
    assert violated_constraint(conn, sql, (on_hand, reserved, ids["product"], ids["north"])) == constraint
    row = conn.execute("SELECT on_hand, reserved FROM stock_levels").fetchone()
    assert row == (10, 0)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE stock_transactions SET quantity = 99", "stock_transactions is append-only"),
        ("DELETE FROM stock_transactions", "stock_transactions is append-only"),
        ("TRUNCATE stock_transactions", "stock_transactions is append-only"),
    ],
)
def test_ledger_refuses_update_delete_and_truncate(
    conn: psycopg.Connection[tuple[object, ...]], ids: dict[str, uuid.UUID], sql: str, message: str
) -> None:
    with pytest.raises(psycopg.errors.RestrictViolation, match=message):
        conn.execute(sql)
    assert conn.execute("SELECT quantity FROM stock_transactions").fetchall() == [(10,)]


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        ("INSERT INTO products (sku, name) VALUES ('sku-1', 'Other')", "products_sku_key"),
        ("INSERT INTO warehouses (code, name) VALUES ('north', 'Other')", "warehouses_code_key"),
        (
            "INSERT INTO users (email, role, password_hash) VALUES ('clerk@EXAMPLE.com', 'viewer', 'x')",
            "users_email_key",
        ),
    ],
)
def test_unique_keys_ignore_case(
    conn: psycopg.Connection[tuple[object, ...]], ids: dict[str, uuid.UUID], sql: str, constraint: str
) -> None:
    with pytest.raises(errors.UniqueViolation) as raised:
        conn.execute(sql)
    assert raised.value.diag.constraint_name == constraint


@pytest.mark.parametrize(
    ("source", "target", "quantity", "constraint"),
    [
        (None, None, 1, "stock_transactions_warehouse_present"),
        ("north", "north", 1, "stock_transactions_warehouses_differ"),
        ("north", "south", 0, "stock_transactions_quantity_positive"),
    ],
)
def test_ledger_rows_need_a_sensible_movement(
    conn: psycopg.Connection[tuple[object, ...]],
    ids: dict[str, uuid.UUID],
    source: str | None,
    target: str | None,
    quantity: int,
    constraint: str,
) -> None:
    sql = (
        "INSERT INTO stock_transactions (type, product_id, from_warehouse_id, to_warehouse_id, quantity,"
        " performed_by, request_id) VALUES ('transfer', %s, %s, %s, %s, %s, 'r2')"
    )
    params = (ids["product"], ids.get(source or ""), ids.get(target or ""), quantity, ids["user"])
    with pytest.raises(errors.CheckViolation) as raised:
        conn.execute(sql, params)
    assert raised.value.diag.constraint_name == constraint


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            "INSERT INTO products (sku, name, unit_price_minor) VALUES ('A', 'a', -1)",
            "products_unit_price_nonnegative",
        ),
        (
            "INSERT INTO products (sku, name, currency_code) VALUES ('A', 'a', 'eur')",
            "products_currency_code_format",
        ),
        (
            "INSERT INTO products (sku, name, attributes) VALUES ('A', 'a', '[1]')",
            "products_attributes_object",
        ),
        ("INSERT INTO products (sku, name) VALUES ('', 'a')", "products_sku_length"),
        ("INSERT INTO users (email, role, password_hash) VALUES ('a@b.c', 'root', 'x')", "users_role_known"),
    ],
)
def test_catalogue_checks_reject_bad_values(
    conn: psycopg.Connection[tuple[object, ...]], sql: str, constraint: str
) -> None:
    with pytest.raises(errors.CheckViolation) as raised:
        conn.execute(sql)
    assert raised.value.diag.constraint_name == constraint


def test_ledger_rows_reference_known_types(
    conn: psycopg.Connection[tuple[object, ...]], ids: dict[str, uuid.UUID]
) -> None:
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute(
            "INSERT INTO stock_transactions (type, product_id, to_warehouse_id, quantity, performed_by,"
            " request_id) VALUES ('gift', %s, %s, 1, %s, 'r3')",
            (ids["product"], ids["north"], ids["user"]),
        )
