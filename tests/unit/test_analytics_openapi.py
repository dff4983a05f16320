"""The analytics API's OpenAPI 3.1 document: it names exactly the pages the worker serves, each
schema in it is a JSON Schema 2020-12 that jsonschema_rs compiles, and the report's schema in it
accepts what the report code builds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs

from services.analytics.app import create_app
from services.analytics.openapi import openapi_document
from services.analytics.settings import AnalyticsSettings
from services.analytics.weekly import weekly_report
from shared.channels import ChannelDirectory
from shared.http_errors import said_error
from shared.messages import said
from shared.problems import PROBLEM_JSON, problem
from tests.unit.test_analytics_figures import REPORT
from tests.unit.test_reach_report import folded, sample_events


def test_the_document_names_every_page_the_worker_serves_and_no_other(tmp_path: Path) -> None:
    app = create_app(AnalyticsSettings(state_dir=tmp_path), ChannelDirectory())
    served = {(path, "get") for path in app.web.views}
    documented = {(path, method) for path, ops in openapi_document()["paths"].items() for method in ops}
    assert served == documented


def _with_components(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` resolvable on its own: the document's components beside it, as OpenAPI reads it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "components": openapi_document()["components"],
    }


def test_every_answer_schema_compiles_and_the_report_fits_its_own() -> None:
    doc = openapi_document()
    assert doc["openapi"] == "3.1.0"
    for path, ops in doc["paths"].items():
        for op in ops.values():
            for status, response in op["responses"].items():
                for media in response.get("content", {}).values():
                    jsonschema_rs.validator_for(_with_components(media["schema"]))
                    assert status.isdigit(), path
    report = _with_components({"$ref": "#/components/schemas/Report"})
    built = weekly_report(folded(sample_events()).items(), "2026-W49", REPORT)
    jsonschema_rs.validator_for(report).validate(json.loads(json.dumps(built)))
    assert not jsonschema_rs.validator_for(report).is_valid({**built, "extra": 1})


def test_every_refusal_is_documented_as_problem_details_and_fits_them() -> None:
    doc = openapi_document()
    for path in ("/v1/reach", "/v1/items/{content_id}", "/v1/report"):
        for status, response in doc["paths"][path]["get"]["responses"].items():
            if status.startswith("4"):
                assert list(response["content"]) == [PROBLEM_JSON], path
    errors = jsonschema_rs.validator_for(_with_components({"$ref": "#/components/schemas/Errors"}))
    for lang in ("en", "id"):
        body = problem(
            404, [said_error(None, None, said("not_found.figures", id="c9"))], lang, "/v1/items/c9"
        )
        errors.validate(json.loads(json.dumps(body)))
