"""Property-based fuzzing of an HTTP service from its own OpenAPI document (schemathesis over
hypothesis): every operation, valid and invalid cases, until a number of requests was sent;
plus, from a request each operation accepts (a ``Seed``), one request per edge value of every
instant, date and number in it, and a hypothesis pass that spoils one of its values at a time.

Unlike ``call_and_validate`` inside one hypothesis test (which stops at the first failure and
shrinks it), every case is sent and judged and every failure is kept, so one run gives the
request count and the whole list of distinct failures. A 5xx is a failure whatever schemathesis'
checks say; each one is matched against ``KNOWN_SERVER_ERRORS`` so the caller can tell the
500s already being fixed from new ones.

schemathesis calls with ``requests`` (blocking): run ``fuzz`` in a worker thread.
"""

from __future__ import annotations

import contextlib
import copy
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
import hypothesis.strategies as st
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


# A 500 being fixed while the harness lands may be listed here with its route, so the fuzz still
# judges everything else; none is expected now: every 5xx fails the run.
KNOWN_SERVER_ERRORS: tuple[KnownServerError, ...] = ()


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
        # Known 500s of one operation stay apart, so each one's route shows in the report.
        return (
            self.operation,
            self.status,
            f"{self.what} [known: {self.known}]" if self.known else self.what,
        )

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


@dataclass(frozen=True)
class Seed:
    """A request of one operation that the service accepts (a valid body, the required query),
    for the hostile pass to spoil one value of at a time."""

    query: dict[str, str] = field(default_factory=dict)
    body: Any = None


# Values that broke a parser or a date computation somewhere, or easily could. Where the value
# being replaced is an instant, a date or a number, its own kind's edges are drawn more often
# (what a careful tester tries first); random text always joins in, so each run also tries
# what no one listed.
EDGE_INSTANTS = (
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:00:00+00:00",
    "9999-12-31T23:59:59.999999+00:00",
    "2026-02-30T10:00:00+07:00",
    "2026-12-04T10:00:00",
)
EDGE_DATES = ("0001-01-01", "9999-12-31", "2026-02-30", "2026-W49-4", "20261204")
EDGE_NUMBERS = (
    "²",
    "١٢٣",
    "\U0001d7d9\U0001d7da",
    "-1",
    "99999999999999999999999999",
    "9" * 4400,  # past the 4,300 digits Python's int() takes
    "1e309",
    "NaN",
    "0x10",
)
HOSTILE_VALUES = (
    *EDGE_INSTANTS,
    *EDGE_DATES,
    *EDGE_NUMBERS,
    "\x00",
    "",
    " ",
    "mastodon-demo\u202e",
    "Gubernur 🏛️ ဂ ᠮ ꦗꦮ",
)
# Authorization values: not UTF-8 once on the wire (requests sends headers as Latin-1), other
# schemes, no key, a huge one.
HOSTILE_AUTHORIZATION = (
    "Bearer \xff\xfe",
    "Bearer caf\xe9",
    "Basic YTpi",
    "Bearer",
    "",
    "Bearer " + "k" * 8000,
)


def fuzz(
    service: str,
    base_url: str,
    key: str,
    known_ids: dict[str, str],
    target: int,
    seed: int = 0,
    seeds: dict[str, Seed] | None = None,
) -> FuzzReport:
    """Fuzz every operation of ``base_url``'s ``/openapi.json`` until ``target`` requests were
    sent: passes over all operations, each with fresh random cases, valid and invalid;
    ``known_ids`` fill path parameters of that name in one more valid pass per operation, so
    existing resources are hit; and a hostile pass per operation spoils one value at a time of
    its ``seeds`` request (by operation label, e.g. ``POST /v1/content``) or of the query,
    path and Authorization header."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=CONFIG)
    headers = {"Authorization": f"Bearer {key}"}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"{service}: an operation schemathesis cannot read: {result}"
        operations.append(result.ok())
    passes: list[tuple[Any, str, dict[str, str] | None]] = []
    for operation in operations:
        ids = {n: v for n, v in known_ids.items() if "{" + n + "}" in operation.path}
        passes += [(operation, "positive", None), (operation, "negative", None), (operation, "hostile", ids)]
        if ids:
            passes.append((operation, "positive", ids))
    report = FuzzReport(service)
    session = requests.Session()
    # First the edges of every instant, date and number the seeds hold, each in its own request
    # (a few dozen: found every run, not when the dice agree), and a bad Authorization once.
    send = _sender(report, session, base_url, "edges")
    for n, operation in enumerate(operations):
        ids = {k: v for k, v in known_ids.items() if "{" + k + "}" in operation.path}
        for case in _edge_cases(operation, (seeds or {}).get(operation.label, Seed()), headers, ids, n == 0):
            send(case)
    rounds = 0
    while report.total < target:
        before = report.total
        # Spread what is left over every pass; a pass may send fewer (a small input space runs dry).
        per_pass = max(1, math.ceil((target - report.total) / len(passes)))
        for operation, mode, pass_ids in passes:
            settings = hypothesis.settings(
                max_examples=per_pass,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            if mode == "hostile":
                sent = _hostile_pass(
                    operation, (seeds or {}).get(operation.label, Seed()), headers, pass_ids or {}
                )
            else:
                generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
                sent = operation.as_strategy(generation, headers=headers, path_parameters=pass_ids)
            run = hypothesis.seed(seed + rounds)(
                settings(hypothesis.given(case=sent)(_sender(report, session, base_url, mode)))
            )
            # Unsatisfiable: nothing in this operation can be made invalid (no body, no constrained parameter).
            with contextlib.suppress(Unsatisfiable):
                run()
        rounds += 1
        assert report.total > before, f"{service}: a pass over every operation sent nothing"
    return report


def _hostile_pass(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    seed: Seed,
    headers: dict[str, str],
    ids: dict[str, str],
) -> st.SearchStrategy[schemathesis.Case[Any]]:
    """The seed request with one value replaced by a hostile one (listed, or random text)."""
    path_names = re.findall(r"{(\w+)}", operation.path)
    query_names = sorted({str(p.name) for p in operation.query} | set(seed.query))
    spots: list[tuple[str, Any]] = [("header", "Authorization")]
    spots += [("query", name) for name in query_names]
    spots += [("path", name) for name in path_names]
    spots += [("body", leaf) for leaf in _leaves(seed.body)]

    @st.composite
    def spoiled(draw: st.DrawFn) -> schemathesis.Case[Any]:
        where, name = draw(st.sampled_from(spots))
        if where == "header":
            value = draw(st.sampled_from(HOSTILE_AUTHORIZATION))
        elif where == "query":
            value = draw(_hostile_for(seed.query.get(name)))
        elif where == "path":
            # Sent as written: a "/", "?" or "#" would end the path segment there and ask another
            # route (a 405 or 404 that no route's document could list).
            value = draw(
                _hostile_for(None).filter(lambda v: v not in ("", ".", "..") and not {"/", "?", "#"} & set(v))
            )
        else:
            value = draw(_hostile_for(_get(seed.body, name)))
        return _spoil(operation, seed, headers, ids, where, name, value)

    return spoiled()


def _spoil(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    seed: Seed,
    headers: dict[str, str],
    ids: dict[str, str],
    where: str,
    name: Any,
    value: str,
) -> schemathesis.Case[Any]:
    """The seed request with the value at ``where``/``name`` replaced by ``value``."""
    query = dict(seed.query)
    path = {n: ids.get(n, "x") for n in re.findall(r"{(\w+)}", operation.path)}
    sent_headers = dict(headers)
    body = copy.deepcopy(seed.body)
    if where == "header":
        sent_headers[name] = value
    elif where == "query":
        query[name] = value
    elif where == "path":
        path[name] = value
    else:
        body = _replace(body, name, value)
    extra: dict[str, Any] = {} if body is None else {"body": body, "media_type": "application/json"}
    return operation.Case(query=query, path_parameters=path, headers=sent_headers, **extra)


def _edge_cases(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    seed: Seed,
    headers: dict[str, str],
    ids: dict[str, str],
    with_authorization: bool,
) -> list[schemathesis.Case[Any]]:
    """One request per edge value of each instant, date and number in the seed request."""
    spots: list[tuple[str, Any, Any]] = [("query", name, value) for name, value in seed.query.items()]
    spots += [("body", leaf, _get(seed.body, leaf)) for leaf in _leaves(seed.body)]
    cases = [
        _spoil(operation, seed, headers, ids, where, name, edge)
        for where, name, value in spots
        for edge in _edges_of(value)
    ]
    if with_authorization:
        cases += [
            _spoil(operation, seed, headers, ids, "header", "Authorization", bad)
            for bad in HOSTILE_AUTHORIZATION
        ]
    return cases


def _edges_of(original: Any) -> tuple[str, ...]:
    """The edge values of ``original``'s kind (an instant, a date, a number), or none."""
    text = str(original) if original is not None else ""
    if len(text) > 10 and _parses(text):
        return EDGE_INSTANTS
    if len(text) == 10 and _parses(text):
        return EDGE_DATES
    if text.isdigit() or isinstance(original, (int, float)):
        return EDGE_NUMBERS
    return ()


def _hostile_for(original: Any) -> st.SearchStrategy[str]:
    """Hostile strings for a spot that held ``original``: its kind's edges first, then the rest."""
    anything = st.one_of(st.sampled_from(HOSTILE_VALUES), st.text(max_size=40))
    kind = _edges_of(original)
    return st.one_of(st.sampled_from(kind), anything) if kind else anything


def _parses(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _get(value: Any, at: tuple[Any, ...]) -> Any:
    for step in at:
        value = value[step]
    return value


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths to every string, number and boolean inside a JSON value."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*at, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*at, i))]
    return [at] if value is not None else []


def _replace(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    value[at[0]] = _replace(value[at[0]], at[1:], new)
    return value


def _sender(
    report: FuzzReport, session: requests.Session, base_url: str, mode: str
) -> Callable[[schemathesis.Case[Any]], None]:
    def send(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, session=session, timeout=60)
        label = case.operation.label
        report.requests[label] += 1
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
            report.add(Finding(label, mode, response.status_code, what, detail, sent, known))

    return send


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
