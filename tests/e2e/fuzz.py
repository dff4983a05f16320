"""Property-based fuzzing of an HTTP service from its own OpenAPI document (schemathesis over
hypothesis): every operation, valid and invalid cases, until a number of requests was sent.

Unlike ``call_and_validate`` inside one hypothesis test (which stops at the first failure and
shrinks it), every case is sent and judged and every failure is kept, so one run gives the
request count and the whole list of distinct failures. A 5xx is a failure whatever schemathesis'
checks say; each one is matched against ``KNOWN_SERVER_ERRORS`` so the caller can tell the
500s already being fixed from new ones.

schemathesis calls with ``requests`` (blocking): run ``fuzz`` in a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import CheckFunction, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

# A body can match the schema and still break a channel's rules (X's weighted length,
# Instagram's media): such a body is rightly a 422, which positive_data_acceptance would call a
# failure. Every other check stays on.
EXCLUDED: list[CheckFunction] = [positive_data_acceptance]
# An invalid body may also be a huge one (413), or name a job whose state forbids the action (409).
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)
KEPT_PER_SIGNATURE = 3


@dataclass(frozen=True)
class Sent:
    """What went over the wire, for matching and for the report."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    @classmethod
    def of(cls, request: requests.PreparedRequest) -> Sent:
        url = urlsplit(request.url or "")
        raw = request.body or b""
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return cls(
            request.method or "?",
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            {k: v.decode("latin-1") if isinstance(v, bytes) else v for k, v in request.headers.items()},
            body,
        )


@dataclass(frozen=True)
class KnownServerError:
    """A 500 another change is fixing: its route and a test on the request that meets it."""

    route: str
    matches: Callable[[Sent], bool]


def _non_ascii_authorization(sent: Sent) -> bool:
    return not sent.headers.get("Authorization", "").isascii()


def _query_has(name: str, test: Callable[[str], bool]) -> Callable[[Sent], bool]:
    return lambda sent: any(test(v) for v in sent.query.get(name, ()))


def _year_at_the_edge(value: str) -> bool:
    """A date or instant in year 1 or 9999: adding an offset or a day overflows ``datetime``."""
    try:
        year = datetime.fromisoformat(value.replace("Z", "+00:00")).year
    except ValueError:
        return False
    return year in (1, 9999)


_EDGE_DATE_IN_BODY = re.compile(r'"(?:0001|9999)-\d\d-\d\d')

KNOWN_SERVER_ERRORS = (
    KnownServerError("any authenticated route: Authorization header not UTF-8", _non_ascii_authorization),
    KnownServerError(
        "ingest GET /v1/content?cursor=<non-ASCII digits>",
        lambda s: s.path == "/v1/content" and _query_has("cursor", lambda v: not v.isascii())(s),
    ),
    KnownServerError(
        "ingest GET /v1/content?from|to=<year 1 or 9999 with an offset>",
        lambda s: (
            s.path == "/v1/content"
            and (_query_has("from", _year_at_the_edge)(s) or _query_has("to", _year_at_the_edge)(s))
        ),
    ),
    KnownServerError(
        "console GET /v1/plan?day=9999-12-31",
        lambda s: s.path == "/v1/plan" and _query_has("day", _year_at_the_edge)(s),
    ),
    KnownServerError(
        "ingest POST /v1/content|/v1/drafts with a year-1 or year-9999 not_before/deadline",
        lambda s: s.path in ("/v1/content", "/v1/drafts") and bool(_EDGE_DATE_IN_BODY.search(s.body)),
    ),
)


def known_server_error(sent: Sent) -> str | None:
    return next((k.route for k in KNOWN_SERVER_ERRORS if k.matches(sent)), None)


@dataclass(frozen=True)
class Finding:
    operation: str
    mode: str
    status: int
    what: str  # the failed checks' titles, or "server error"
    detail: str
    sent: Sent
    known: str | None  # the route of a known 500, None when new

    @property
    def signature(self) -> tuple[str, int, str]:
        return (self.operation, self.status, self.what)

    def render(self) -> str:
        body = self.sent.body if len(self.sent.body) <= 600 else self.sent.body[:600] + "…"
        query = "&".join(f"{k}={v!r}" for k, vs in self.sent.query.items() for v in vs)
        head = f"{self.operation} ({self.mode}) → {self.status}: {self.what}"
        if self.known:
            head += f"  [known: {self.known}]"
        return f"{head}\n    {self.sent.method} {self.sent.path}?{query}\n    body: {body}\n    {self.detail[:800]}"


@dataclass
class FuzzReport:
    service: str
    requests: Counter[str] = field(default_factory=Counter)  # operation → requests sent
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    seen: Counter[tuple[str, int, str]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def add(self, finding: Finding) -> None:
        self.seen[finding.signature] += 1
        if self.seen[finding.signature] <= KEPT_PER_SIGNATURE:
            self.findings.append(finding)

    def server_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.status >= 500]

    def unknown_failures(self) -> list[Finding]:
        """Every failure but a known 500 (a known route answering 500 is being fixed elsewhere)."""
        return [f for f in self.findings if f.known is None]

    def summary(self) -> str:
        lines = [
            f"{self.service}: {self.total} requests over {len(self.requests)} operations; "
            f"statuses {dict(sorted(self.statuses.items()))}; "
            f"{len(self.server_errors())} kinds of 5xx, {len(self.unknown_failures())} new failures"
        ]
        for sig, n in sorted(self.seen.items()):
            lines.append(f"  {n:>5} x {sig[0]} → {sig[1]}: {sig[2]}")
        return "\n".join(lines)


def fuzz(
    service: str, base_url: str, key: str, known_ids: dict[str, str], target: int, seed: int = 0
) -> FuzzReport:
    """Fuzz every operation of ``base_url``'s ``/openapi.json`` until ``target`` requests were
    sent (passes over all operations, each with fresh random cases; ``known_ids`` fill path
    parameters of that name in one positive pass per operation, so existing resources are hit)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=CONFIG)
    headers = {"Authorization": f"Bearer {key}"}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"{service}: an operation schemathesis cannot read: {result}"
        operations.append(result.ok())
    passes: list[tuple[Any, GenerationMode, dict[str, str] | None]] = []
    for operation in operations:
        ids = {n: v for n, v in known_ids.items() if "{" + n + "}" in operation.path}
        passes += [(operation, GenerationMode.POSITIVE, None), (operation, GenerationMode.NEGATIVE, None)]
        if ids:
            passes.append((operation, GenerationMode.POSITIVE, ids))
    report = FuzzReport(service)
    session = requests.Session()
    rounds = 0
    while report.total < target:
        before = report.total
        # Spread what is left over every pass; a pass may send fewer (a small input space runs dry).
        per_pass = max(1, math.ceil((target - report.total) / len(passes)))
        for operation, mode, path_parameters in passes:
            _one_pass(
                report, session, operation, mode, base_url, headers, path_parameters, seed + rounds, per_pass
            )
        rounds += 1
        assert report.total > before, f"{service}: a pass over every operation sent nothing"
    return report


def _one_pass(
    report: FuzzReport,
    session: requests.Session,
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str],
    path_parameters: dict[str, str] | None,
    seed: int,
    examples: int,
) -> None:
    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(mode, headers=headers, path_parameters=path_parameters))
    def send(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, session=session, timeout=60)
        report.requests[operation.label] += 1
        report.statuses[response.status_code] += 1
        sent = Sent.of(response.request)
        problems: list[str] = []
        detail = ""
        try:
            case.validate_response(response, excluded_checks=EXCLUDED)
        except (AssertionError, BaseExceptionGroup) as exc:
            problems = _titles(exc)
            detail = str(exc)
        if response.status_code >= 500:
            problems = problems or ["server error"]
            detail = response.text
        if problems:
            known = known_server_error(sent) if response.status_code >= 500 else None
            what = "; ".join(sorted(set(problems)))
            report.add(Finding(operation.label, mode.value, response.status_code, what, detail, sent, known))

    # Unsatisfiable: nothing in this operation can be made invalid (no body, no constrained parameter).
    with contextlib.suppress(Unsatisfiable):
        send()


def _titles(exc: BaseException) -> list[str]:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return [t for e in inner for t in _titles(e)]
    return [str(getattr(exc, "title", None) or type(exc).__name__)]


def dump(reports: list[FuzzReport]) -> str:
    """One JSON line of figures, as the benchmarks print them."""
    return json.dumps(
        {
            "fuzz": {
                r.service: {
                    "requests": r.total,
                    "operations": len(r.requests),
                    "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
                    "server_errors": sum(n for sig, n in r.seen.items() if sig[1] >= 500),
                }
                for r in reports
            }
        }
    )
