"""Service layer: use cases over units of work; knows neither gRPC nor SQL."""
