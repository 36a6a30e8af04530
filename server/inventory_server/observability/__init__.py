"""Metrics, traces and logs in the formats operators' tools read (docs/operations.md).

- ``metrics``: Prometheus exposition with the standard ``grpc_server_*`` names
  plus the service's own figures, read at scrape time;
- ``tracing``: an OpenTelemetry tracer provider built from the standard
  ``OTEL_*`` variables, or none at all (the no-op API) when no exporter is set;
- ``logs``: text or JSON log lines, and the per-call access line's fields;
- ``calls``: the per-call record that inner layers annotate for the access line.

The gRPC side (one interceptor) lives in ``api.observability``; the SQL spans
in ``db.tracing``; the wiring in ``app.py`` and ``cli.py``.
"""
