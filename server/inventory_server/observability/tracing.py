"""OpenTelemetry tracing, configured only by the standard ``OTEL_*`` variables.

Tracing is on when an exporter is named: ``OTEL_TRACES_EXPORTER`` (a comma
list: ``otlp``, ``console``, or any installed ``opentelemetry_traces_exporter``
entry point), or, with that variable unset, an OTLP endpoint
(``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``).
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` turns it off.

Off means off: no SDK tracer provider is built (the SDK is not even
imported), the interceptor starts no span and the pool's connections keep
psycopg's plain cursor, so a call pays one ``is None`` test. The OpenTelemetry
spec's own default exporter ("otlp" when nothing is set) is deliberately not
followed: a server without a collector must not spend time exporting into the
void.

Everything else is the SDK's, read from the environment as the spec says:
``OTEL_SERVICE_NAME`` (default here: "inventory-server"),
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` (+ ``_ARG``),
``OTEL_BSP_*`` (batching), ``OTEL_EXPORTER_OTLP_*`` (endpoint, protocol:
``grpc`` by default, ``http/protobuf`` picks the HTTP exporter; headers,
TLS). The OTLP exporter is an optional extra: ``pip install
'inventory-server[otlp]'`` (the image installs it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

DEFAULT_SERVICE_NAME = "inventory-server"
EXPORTER_GROUP = "opentelemetry_traces_exporter"


class TracingConfigError(ValueError):
    """An ``OTEL_*`` variable names an exporter that is not installed."""


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The span exporters the environment asks for; [] when tracing is off.

    >>> exporter_names({})
    []
    >>> exporter_names({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    ['otlp']
    >>> exporter_names({"OTEL_TRACES_EXPORTER": "console, otlp"})
    ['console', 'otlp']
    >>> exporter_names({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"})
    []
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = environ.get("OTEL_TRACES_EXPORTER")
    if named is None:
        endpoints = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
        return ["otlp"] if any(environ.get(name) for name in endpoints) else []
    names = [name.strip().lower() for name in named.split(",") if name.strip()]
    return [] if "none" in names else names


def tracer_provider_from_environment(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """An SDK tracer provider exporting where the environment says, or None when tracing is off."""
    environ = os.environ if environ is None else environ
    names = exporter_names(environ)
    if not names:
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    exporters = [_exporter(_entry_point_name(name, environ)) for name in names]  # all found first
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: DEFAULT_SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes))
    for name, exporter in zip(names, exporters, strict=True):
        # The console exporter is for looking at spans as they end; the others batch.
        processor = SimpleSpanProcessor if name == "console" else BatchSpanProcessor
        provider.add_span_processor(processor(exporter))
    return provider


def _entry_point_name(name: str, environ: Mapping[str, str]) -> str:
    """``otlp`` is the gRPC or the HTTP exporter, as ``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`` says.

    >>> _entry_point_name("otlp", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    'otlp_proto_http'
    >>> _entry_point_name("otlp", {})
    'otlp_proto_grpc'
    """
    if name != "otlp":
        return name
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    return "otlp_proto_http" if (protocol or "grpc").strip() == "http/protobuf" else "otlp_proto_grpc"


def _exporter(name: str) -> SpanExporter:
    found = entry_points(group=EXPORTER_GROUP, name=name)
    if not found:
        hint = " (install the extra: pip install 'inventory-server[otlp]')" if name.startswith("otlp") else ""
        raise TracingConfigError(f"OTEL_TRACES_EXPORTER: no span exporter named {name!r} is installed{hint}")
    exporter: SpanExporter = next(iter(found)).load()()
    return exporter
