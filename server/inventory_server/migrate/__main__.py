"""``python -m inventory_server.migrate``: the same as the ``inventory-migrate`` command."""

from inventory_server.migrate.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
