"""Tracing helpers: off by default (nothing added to records), headers read defensively."""

from __future__ import annotations

from shared.tracing import current_traceparent, kafka_headers, span, traceparent_of

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_off_by_default_records_nothing_and_makes_up_no_trace() -> None:
    with span("anything", job_id="c:x"):
        assert current_traceparent() is None
        assert kafka_headers() is None
    # A caller's trace passes through unchanged (the no-op span carries its parent's context).
    with span("anything", parent=TP):
        assert current_traceparent() == TP


def test_a_records_traceparent_header_is_read_only_when_well_formed() -> None:
    assert traceparent_of([("other", b"x"), ("traceparent", TP.encode())]) == TP
    assert traceparent_of([("traceparent", b"\xff\xfe")]) is None
    assert traceparent_of([("traceparent", b"")]) is None
    assert traceparent_of(None) is None


def test_off_a_span_without_parent_keeps_the_callers_trace() -> None:
    # The short path while off must do what the no-op API does: leave the current span current.
    with span("outer", parent=TP), span("inner", route="/v1/content") as inner:
        inner.set_attribute("http.response.status_code", 202)
        assert current_traceparent() == TP
        assert kafka_headers() == [("traceparent", TP.encode())]
