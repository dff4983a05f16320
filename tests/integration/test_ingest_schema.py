"""schemathesis against ingest's own ``/openapi.json``: whatever it sends, valid or
not, ingest never answers 5xx and every answer conforms to the document.

schemathesis calls with ``requests`` (blocking), so the real app serves on an ephemeral TCP
port on this test's loop while the generated cases run in a worker thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import CheckFunction, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from shared.topics import TopicRegistry
from tests.integration.ingest_app import content_body, running_ingest

pytestmark = [
    pytest.mark.integration,
    # schemathesis 4.32's own strategies draw from `random`; Hypothesis deprecates that. Not ours.
    pytest.mark.filterwarnings(
        "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
    ),
]

EXAMPLES_PER_OPERATION = 25
# A body can match the schema and still break a channel's rules (X's 280 weighted characters,
# Instagram's media, channels configured at run time): such a body is rightly a 422, which
# schemathesis' positive_data_acceptance would call a failure. Every other check stays on.
EXCLUDED: list[CheckFunction] = [positive_data_acceptance]
# An invalid body may also be a huge one: 413 is as right an answer to it as 422.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)


def fuzz(base_url: str, key: str, known: dict[str, str]) -> list[str]:
    """Every operation of the document, each with a few generated cases, valid and invalid, and
    once more on the ``known`` ids (an item and a draft that exist); the failures found."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=CONFIG)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document has an operation schemathesis cannot read: {result}"
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _fuzz_operation(operation, mode, base_url, headers)
        ids = {name: value for name, value in known.items() if "{" + name + "}" in operation.path}
        if ids:
            failures += _fuzz_operation(operation, GenerationMode.POSITIVE, base_url, headers, ids)
    return failures


def _fuzz_operation(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str],
    path_parameters: dict[str, str] | None = None,
) -> list[str]:
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(mode, headers=headers, path_parameters=path_parameters))
    def check(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=base_url, excluded_checks=EXCLUDED, timeout=60)

    try:
        check()
    except Unsatisfiable:
        pass  # nothing in this operation can be made invalid (no body, no constrained parameter)
    except (Exception, BaseExceptionGroup) as exc:  # each report names its case and check
        failures.append(f"{operation.label} ({mode.value}): {_describe(exc)}")
    return failures


def _describe(exc: BaseException) -> str:
    # Hypothesis wraps a flaky failure in a group: show what actually failed.
    inner = getattr(exc, "exceptions", None)
    if inner:
        return f"{exc}\n" + "\n".join(_describe(e) for e in inner)
    return f"{type(exc).__name__}: {exc}"


async def test_every_answer_conforms_to_the_openapi_document(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    # The admin key may do everything, so authorization hides no code path; no rate limit here.
    async with running_ingest(
        kafka_bootstrap,
        topics,
        tmp_path,
        rate_burst=1_000_000,
        rate_per_minute=1e9,
        list_rate_burst=1_000_000,
        list_rate_per_minute=1e9,
    ) as app:
        # Something to read back: an item, a draft and a paused channel.
        item = await app.call("POST", "/v1/content", content_body(("mastodon-demo", "x-demo")))
        draft = await app.call("POST", "/v1/drafts", content_body(approved_by=None), role="editor")
        paused = await app.call("POST", "/v1/pause", {"channels": ["x-demo"], "reason": "r"}, role="operator")
        assert (item.status, draft.status, paused.status) == (202, 201, 202), (item, draft, paused)
        known = {"content_id": item.body["content_id"], "draft_id": draft.body["draft_id"]}
        base_url = str(app.client.make_url("")).rstrip("/")
        failures = await asyncio.to_thread(fuzz, base_url, app.keys["admin"], known)
    assert not failures, "\n\n".join(failures)
