"""WarehouseRepository and UserRepository on PostgreSQL."""
