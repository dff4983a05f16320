"""Traces across Kafka: one trace per item, from ``POST /v1/content`` to each platform call.

An item's trace starts at ingest's request. Its W3C ``traceparent`` travels two ways: as a Kafka
record header (``traceparent``, the OpenTelemetry convention for messaging) on every record that
carries the item, and inside the events that wait (``ContentApproved``, ``JobPlanned``,
``JobDue``), because a job may wait hours in the plan before it fires and a header lives only as
long as its record. Each service continues the trace where it takes the item up: the router
routes it, the planner fires its job, the publisher publishes it and calls the platform.

Off by default: without ``WARTA_OTLP_ENDPOINT`` the OpenTelemetry API is a no-op: no span is
recorded and no trace is made up (``traceparent`` stays empty, records get no header), while a
trace context that arrives from outside passes through unchanged. With it, spans go to an
OTLP/HTTP collector in batches (``service.name`` is the service).

While off, ``span`` without a parent and ``current_traceparent`` outside any trace return at
once: ingest opens a span per request, and the no-op API's own path (a context attached and
detached, a propagator run) costs tens of microseconds each time for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import ProxyTracerProvider, Span, SpanKind

TRACEPARENT = "traceparent"
_tracer = trace.get_tracer("warta")

KafkaHeaders = Sequence[tuple[str, bytes]]


def setup_tracing(service: str, endpoint: str | None) -> None:
    """Export spans of this process to the OTLP/HTTP ``endpoint`` (None: tracing stays off)."""
    if not endpoint:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)


def _tracing_off() -> bool:
    # No provider was set (``setup_tracing`` without an endpoint): the API's default proxy.
    return isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the span running now (None when tracing is off or no span runs)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None  # what the propagator would write: nothing
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_of(traceparent: str | None) -> Context | None:
    """The context a ``traceparent`` names, to continue its trace (None: start a new one)."""
    if not traceparent:
        return None
    return propagate.extract({TRACEPARENT: traceparent})


def traceparent_of(headers: KafkaHeaders | None) -> str | None:
    """A record's ``traceparent`` header, when it has a well-formed one."""
    for name, value in headers or ():
        if name == TRACEPARENT and value:
            try:
                return value.decode("ascii")
            except UnicodeDecodeError:
                return None
    return None


def kafka_headers() -> list[tuple[str, bytes]] | None:
    """Headers carrying the running span's ``traceparent`` onto a record (None when off)."""
    traceparent = current_traceparent()
    return [(TRACEPARENT, traceparent.encode("ascii"))] if traceparent else None


@contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    **attributes: str | int | float | bool | None,
) -> Iterator[Span]:
    """A span named ``name``, continuing the trace of ``parent`` (a traceparent) when given."""
    if parent is None and _tracing_off():
        # The no-op tracer would hand back the current span and make it current again.
        yield trace.get_current_span()
        return
    shown = {f"warta.{k}": v for k, v in attributes.items() if v is not None}
    with _tracer.start_as_current_span(
        name, context=context_of(parent), kind=kind, attributes=shown
    ) as current:
        yield current
