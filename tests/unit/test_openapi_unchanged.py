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
    "ingest": "c9092da40b1aed8f570726c3e2a9885645db23e2c39f413be1accabd658e0234",
    "console": "c9d444a2fab1b24a2b7a20562cb2265e8301b65064b94a50875c14d93ad007eb",
    "analytics": "5acf22dab3ea01e28ed01b91e00cea371af19cacaa1fcc6c61ecb1e5aead0ee6",
    "inbox": "cc44b3a3fd8962b76a893f80d83ab13d2d45f0484498003a09627b9de6f85099",
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
