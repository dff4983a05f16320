"""The OpenAPI documents are the same bytes, key order included, as the reviewed ones.

They are built by code in named steps; a step reordered or a shared dict changed in place would
change what clients read without any schema test noticing. A deliberate change to an API updates
the digest here in the same commit (print it with the command in the failure message).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from services.analytics.openapi import openapi_document as analytics_document
from services.console.openapi import openapi_document as console_document
from services.inbox.openapi import openapi_document as inbox_document
from services.ingest.openapi import openapi_document as ingest_document

REVIEWED = {
    "ingest": "8cfba582128667c9e7f39adabc0407fbec303261f3a6568d815d9c623efaecc5",
    "console": "e87d064459ca337be1a893f8451d58e868c91dad2d82d1890a15266726bfa4bb",
    "analytics": "4bd7ca24a874ee24096df35f94110731bb54424aa4d13a2994ebeb6e5a6ceb4e",
    "inbox": "00d358ef2c889c51c0ab465652beb82cd8ee7c7b56d611bb1afeb3cef3bf9095",
}


@pytest.mark.parametrize(
    ("service", "document"),
    [
        ("ingest", ingest_document),
        ("console", console_document),
        ("analytics", analytics_document),
        ("inbox", inbox_document),
    ],
)
def test_the_document_is_the_reviewed_one(service: str, document: Callable[[], dict[str, Any]]) -> None:
    digest = hashlib.sha256(json.dumps(document()).encode()).hexdigest()
    assert digest == REVIEWED[service], (
        f"the {service} OpenAPI document changed; if on purpose, its digest is now {digest}"
    )


def test_building_a_document_twice_gives_the_same_bytes() -> None:
    # Both are cached; the builders must also not share state that one build would change.
    for document in (ingest_document, console_document, analytics_document, inbox_document):
        first = json.dumps(document())
        document.cache_clear()
        assert json.dumps(document()) == first
