"""Tracing follows the OTEL_* variables only; off (no SDK provider) unless an exporter is named."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider

from inventory_server.observability.tracing import (
    DEFAULT_SERVICE_NAME,
    TracingConfigError,
    exporter_names,
    tracer_provider_from_environment,
)


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_SERVICE_NAME": "inventory"},
        {"OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"},
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "TRUE"},
    ],
)
def test_without_an_exporter_there_is_no_tracer_provider(environ: dict[str, str]) -> None:
    assert tracer_provider_from_environment(environ) is None


def test_an_otlp_endpoint_alone_asks_for_the_otlp_exporter() -> None:
    assert exporter_names({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}) == [
        "otlp"
    ]


def test_an_exporter_that_is_not_installed_is_a_configuration_error() -> None:
    with pytest.raises(TracingConfigError, match="no span exporter named 'zipkin-nowhere'"):
        tracer_provider_from_environment({"OTEL_TRACES_EXPORTER": "zipkin-nowhere"})


def test_console_exporter_gets_an_sdk_provider_named_after_the_service() -> None:
    provider = tracer_provider_from_environment({"OTEL_TRACES_EXPORTER": "console"})
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == DEFAULT_SERVICE_NAME
    provider.shutdown()


def test_otel_service_name_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "inventory-eu")  # the SDK's resource detector reads os.environ
    provider = tracer_provider_from_environment({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "x"})
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "inventory-eu"
    provider.shutdown()


@pytest.mark.parametrize(
    ("environ", "exporter_module"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, "opentelemetry.exporter.otlp.proto.grpc"),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            "opentelemetry.exporter.otlp.proto.http",
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"},
            "opentelemetry.exporter.otlp.proto.grpc",
        ),
    ],
)
def test_otlp_uses_the_protocol_asked_for_and_batches(environ: dict[str, str], exporter_module: str) -> None:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = tracer_provider_from_environment(environ)
    assert provider is not None
    (processor,) = provider._active_span_processor._span_processors  # the SDK keeps them here
    assert isinstance(processor, BatchSpanProcessor)
    assert type(processor.span_exporter).__module__.startswith(exporter_module)
    provider.shutdown()  # nothing was traced: nothing is sent
