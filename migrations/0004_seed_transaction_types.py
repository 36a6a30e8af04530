"""Fill transaction_types with the six movement types the service knows.

A Python data migration: it runs in the same transaction as its history row.
down() removes exactly the rows up() inserted.
"""

from __future__ import annotations

from typing import Any

import psycopg

# code, description, on_hand_effect, reserved_effect (None: the direction decides)
TRANSACTION_TYPES: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("receipt", "Goods received into a warehouse", 1, 0),
    ("shipment", "Goods shipped out of a warehouse", -1, 0),
    ("transfer", "Goods moved from one warehouse to another", None, 0),
    ("adjustment", "Stock count correction, up or down", None, 0),
    ("reservation", "Stock set aside for an order", 0, 1),
    ("release", "A reservation given back", 0, -1),
)


def up(conn: psycopg.Connection[Any]) -> None:
    """Insert the movement types."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO transaction_types (code, description, on_hand_effect, reserved_effect)"
            " VALUES (%s, %s, %s, %s)",
            TRANSACTION_TYPES,
        )


def down(conn: psycopg.Connection[Any]) -> None:
    """Remove the movement types inserted by up()."""
    conn.execute(
        "DELETE FROM transaction_types WHERE code = ANY(%s)",
        ([code for code, *_ in TRANSACTION_TYPES],),
    )
