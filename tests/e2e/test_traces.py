"""One trace per item, across Kafka: a real OTLP/HTTP receiver (the OpenTelemetry protocol's own
protobuf messages, decoded with the project's published schema package) collects what every
service exports, and the item's spans — ingest's request, the router, the planner's firing, the
publisher and its platform call — share one trace id."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.e2e.client import Api, item, unique_text
from tests.e2e.conftest import local_system
from warta.devrun import LocalSystem, free_listen_port

pytestmark = pytest.mark.e2e


class Collector:
    """Spans received over OTLP/HTTP: (trace id, service, span name, attributes)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.lock:
            for resource_spans in request.resource_spans:
                service = next(
                    (
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    ),
                    "",
                )
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        attributes = {a.key: a.value for a in span.attributes}
                        self.spans.append((span.trace_id.hex(), service, span.name, attributes))


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[Collector, int]]:
    collected = Collector()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            collected.take(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    port = free_listen_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collected, port
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def traced(kafka_bootstrap: str, collector: tuple[Collector, int]) -> Iterator[LocalSystem]:
    _, port = collector
    yield from local_system(
        kafka_bootstrap,
        WARTA_POLICY="naive",
        WARTA_OTLP_ENDPOINT=f"http://127.0.0.1:{port}/v1/traces",
        OTEL_BSP_SCHEDULE_DELAY="500",  # export every half second, not every five
    )


async def test_one_trace_spans_ingest_scheduler_and_publisher(
    traced: LocalSystem, collector: tuple[Collector, int]
) -> None:
    collected, _ = collector

    key = json.loads(traced.dev_keys_file.read_text())["approver"]["key"]
    async with aiohttp.ClientSession() as session:
        api = Api(session, traced.ingest_url, key)
        content_id = await api.submit(item(unique_text("Traced"), ["mastodon-demo"], priority="urgent"))
        await api.wait_state(content_id, "mastodon-demo", "published", timeout=60)

    wanted = {
        ("ingest", "POST /v1/content"),
        ("scheduler", "scheduler.route"),
        ("scheduler", "scheduler.fire"),
        ("publisher-mastodon", "publisher.publish"),
        ("publisher-mastodon", "POST mastodon"),
    }
    deadline = time.monotonic() + 30
    while True:
        with collected.lock:
            spans = list(collected.spans)
        fired = [
            s
            for s in spans
            if s[2] == "scheduler.fire" and _text(s[3].get("warta.job_id")).startswith(content_id)
        ]
        trace_id = fired[0][0] if fired else None
        seen = {(service, name) for tid, service, name, _ in spans if tid == trace_id}
        if wanted <= seen or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert trace_id is not None, sorted({(s[1], s[2]) for s in spans})
    assert wanted <= seen, sorted(seen)
    print(f"\ntrace {trace_id} of item {content_id}:")
    for tid, service, name, attributes in spans:
        if tid == trace_id:
            shown = {k: _text(v) or v.int_value for k, v in attributes.items()}
            print(f"  {service:<20} {name:<20} {shown}")
    log = (traced.logs / "publisher-mastodon.log").read_text(errors="replace").splitlines()
    lines = [line for line in log if content_id in line]
    assert lines, "the publisher's log names the item"
    print(f"a log line of it: {lines[-1]}")


def _text(value: Any) -> str:
    return str(value.string_value) if value is not None else ""
