"""What the API document promises clients about retries after a 503."""

from __future__ import annotations

from services.ingest.openapi import openapi_document


def test_the_document_says_a_retry_after_503_is_safe_only_with_an_idempotency_key() -> None:
    post = openapi_document()["paths"]["/v1/content"]["post"]
    [key] = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert "503" in key["description"]
    assert "second time" in key["description"]
    assert "Idempotency-Key" in post["responses"]["503"]["description"]
    assert "may still reach the broker" in post["responses"]["503"]["description"]
