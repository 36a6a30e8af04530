"""inventory-server: gRPC data-access service for inventory."""

__version__ = "0.1.0"
