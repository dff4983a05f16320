"""The console's HTTP API over the real broker: which jobs an operator may act on, what a key's
channel scope lets it see and do, and the security headers on every response.

The view is fed directly (its feeder is the broker replay, tested elsewhere); actions go to the
real ``publish.outcomes`` and are read back from it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.console.http_api import create_app
from services.console.http_deps import Deps
from services.console.offsets import OffsetSnapshot, PartitionLag
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView
from shared.events import (
    Content,
    ControlAction,
    ControlIssued,
    DeadLettered,
    JobPlanned,
    JobState,
    OperatorDecided,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
)
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.kafka import ensure_topics, make_producer
from shared.operator_decisions import decided_outcome
from shared.page_script import PAGE_SCRIPT, static_file
from shared.security_headers import SECURITY_HEADERS
from shared.topics import TopicRegistry
from tests.e2e.browser import chromium, chromium_path, screenshot_for_docs
from tests.integration.console_app import console_deps
from tests.integration.ingest_app import CHANNELS_FILE, read_events
from warta.cli import main
from warta.ops_client import EXIT_REFUSED, CliError

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
# Who holds which key: an operator for every channel, one for Telegram only, and an editor.
KEYS = {
    "all": ("opa", Role.OPERATOR, frozenset({"*"})),
    "telegram": ("tia", Role.OPERATOR, frozenset({"telegram-demo"})),
    "editor": ("rina", Role.EDITOR, frozenset({"*"})),
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass
class Console:
    client: TestClient[web.Request, web.Application]
    deps: Deps
    topics: TopicRegistry

    @property
    def view(self) -> ConsoleView:
        return self.deps.view

    async def call(self, method: str, path: str, body: Any = None, *, key: str | None = "all") -> Answer:
        headers = {"Authorization": f"Bearer key-{key}"} if key else {}
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.client.request(method, path, data=data, headers=headers) as resp:
            text = await resp.text()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            return Answer(resp.status, parsed, dict(resp.headers))

    async def act(self, job_id: str, action: str, *, key: str = "all", url: str | None = None) -> Answer:
        body = {"action": action, "reason": "checked the channel", "url": url}
        return await self.call("POST", f"/v1/jobs/{job_id}/actions", body, key=key)


@pytest.fixture
async def console(kafka_bootstrap: str, topics: TopicRegistry) -> AsyncIterator[Console]:
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.publish_outcomes])
    settings = ConsoleSettings(
        kafka_bootstrap=kafka_bootstrap, topic_prefix=topics.prefix, channels_file=CHANNELS_FILE
    )
    keys = KeyStore(
        records=tuple(
            KeyRecord(digest=digest_key(f"key-{name}"), person=person, role=role, channels=channels)
            for name, (person, role, channels) in KEYS.items()
        )
    )
    producer = make_producer(kafka_bootstrap, "test-console")
    await producer.start()
    # Waits until the broker's metadata lists the fresh topic: the tests read it back even when
    # nothing was written to it.
    await producer.partitions_for(topics.publish_outcomes)
    session = aiohttp.ClientSession()
    deps = console_deps(
        settings=settings,
        topics=topics,
        channels=settings.load_channels(),
        keys=keys,
        producer=producer,
        session=session,
        clock=lambda: NOW,
    )
    client = TestClient(TestServer(create_app(deps)))
    await client.start_server()
    try:
        yield Console(client, deps, topics)
    finally:
        await client.close()
        await session.close()
        await producer.stop()


def job(state: JobState, channel: str = "x-demo", n: int = 1, version: str = "v1") -> JobPlanned:
    return JobPlanned(
        event_id=f"{version}-{n}-{channel}",
        occurred_at=NOW,
        job_id=f"c{n}:{channel}",
        content_id=f"c{n}",
        channel=channel,
        platform=channel.removesuffix("-demo"),
        state=state,
        slot=NOW,
        attempt=2,
        arrived_at=NOW,
        approved_at=NOW,
        content=Content(text="Gubernur meresmikan jembatan baru."),
    )


async def operator_outcomes(console: Console, bootstrap: str) -> list[PublishOutcome]:
    """What the operators' decisions on the topic ask the scheduler to apply."""
    events = await read_events(bootstrap, console.topics.publish_outcomes)
    return [decided_outcome(e) for e in events if isinstance(e, OperatorDecided)]


# ---- actions belong to settled jobs --------------------------------------------------------------
@pytest.mark.parametrize("state", [JobState.DUE, JobState.ATTEMPTED, JobState.SCHEDULED])
@pytest.mark.parametrize("action", ["retry", "mark_published", "discard"])
async def test_a_job_in_flight_refuses_every_action_with_409(
    console: Console, kafka_bootstrap: str, state: JobState, action: str
) -> None:
    console.view.apply(job(state))
    answer = await console.act("c1:x-demo", action, url="https://x.com/warta/status/1")
    assert answer.status == 409
    assert answer.body["errors"][0]["rule"] == "not_settled"
    assert "only to failed, unconfirmed and dead" in answer.body["errors"][0]["message"]
    assert await operator_outcomes(console, kafka_bootstrap) == []


async def test_settled_jobs_accept_their_actions(console: Console, kafka_bootstrap: str) -> None:
    console.view.apply(job(JobState.FAILED, n=1))
    console.view.apply(job(JobState.DEAD, n=2))
    console.view.apply(job(JobState.UNCONFIRMED, n=3))
    assert (await console.act("c1:x-demo", "retry")).status == 202
    assert (await console.act("c2:x-demo", "retry")).status == 202
    marked = await console.act("c3:x-demo", "mark_published", url="https://x.com/warta/status/9")
    assert marked.status == 202
    written = await operator_outcomes(console, kafka_bootstrap)
    assert sorted((o.job_id, o.status, o.attempt) for o in written) == [
        ("c1:x-demo", OutcomeStatus.RETRY, 2),
        ("c2:x-demo", OutcomeStatus.RETRY, 2),
        ("c3:x-demo", OutcomeStatus.PUBLISHED, 2),
    ]


async def test_a_retry_of_an_unconfirmed_job_says_it_is_looked_up_first(console: Console) -> None:
    console.view.apply(job(JobState.UNCONFIRMED))
    answer = await console.act("c1:x-demo", "retry")
    assert answer.status == 202
    assert "looks the post up before sending" in answer.body["note"]


async def test_two_operators_at_once_one_action_wins(console: Console, kafka_bootstrap: str) -> None:
    console.view.apply(job(JobState.UNCONFIRMED))
    answers = await asyncio.gather(
        console.act("c1:x-demo", "discard"),
        console.act("c1:x-demo", "retry"),
        console.act("c1:x-demo", "mark_published", url="https://x.com/warta/status/9"),
    )
    assert sorted(a.status for a in answers) == [202, 409, 409]
    refused = [a for a in answers if a.status == 409]
    assert all(a.body["errors"][0]["rule"] == "action_in_progress" for a in refused)
    assert len(await operator_outcomes(console, kafka_bootstrap)) == 1
    # Once the plan shows the winner applied, the next action is judged on the new state.
    console.view.apply(job(JobState.FAILED, version="v2"))
    assert (await console.act("c1:x-demo", "retry")).status == 202


# ---- channel scope -------------------------------------------------------------------------------
async def test_a_scoped_key_sees_only_its_channels(console: Console) -> None:
    console.view.apply(job(JobState.FAILED, channel="x-demo"))
    console.view.apply(job(JobState.FAILED, channel="telegram-demo"))
    problems = await console.call("GET", "/v1/problems", key="telegram")
    assert [j["channel"] for j in problems.body["jobs"]] == ["telegram-demo"]
    channels = await console.call("GET", "/v1/channels", key="telegram")
    assert [c["channel"] for c in channels.body["channels"]] == ["telegram-demo"]
    overview = await console.call("GET", "/v1/overview", key="telegram")
    assert [p["platform"] for p in overview.body["platforms"]] == ["telegram"]
    assert overview.body["jobs_by_state"] == {"failed": 1}
    everything = await console.call("GET", "/v1/problems", key="all")
    assert len(everything.body["jobs"]) == 2
    plan = await console.call("GET", "/v1/plan?channel=x-demo&day=2026-11-27", key="telegram")
    assert (plan.status, plan.body["errors"][0]["rule"]) == (403, "channel_forbidden")


def parked(channel: str) -> PublishOutcome:
    """What the publisher records when the account's credential was revoked."""
    return PublishOutcome(
        event_id=f"reauth-{channel}",
        occurred_at=NOW,
        job_id=f"c1:{channel}",
        content_id="c1",
        channel=channel,
        platform=channel.removesuffix("-demo"),
        attempt=1,
        status=OutcomeStatus.NEEDS_REAUTH,
        error=PlatformError(
            code="auth_expired",
            message=f"account '{channel}' needs re-connecting: Token has been expired or revoked.",
        ),
    )


async def test_the_overview_names_each_channel_that_needs_reconnecting_until_it_is(console: Console) -> None:
    console.view.apply(parked("x-demo"))
    console.view.apply(parked("telegram-demo"))
    overview = await console.call("GET", "/v1/overview")
    rows = {r["channel"]: r for r in overview.body["needs_reauth"]}
    assert set(rows) == {"x-demo", "telegram-demo"}
    assert rows["x-demo"]["platform"] == "x"
    assert "expired or revoked" in rows["x-demo"]["reason"]
    assert rows["x-demo"]["reconnect"] == "warta channels connect x-demo"
    assert rows["x-demo"]["since"] is not None
    scoped = await console.call("GET", "/v1/overview", key="telegram")
    assert [r["channel"] for r in scoped.body["needs_reauth"]] == ["telegram-demo"]
    # The account is connected again: the banner's entry goes with the park.
    console.view.apply(
        ControlIssued(
            event_id="re1",
            occurred_at=NOW,
            action=ControlAction.RECONNECTED,
            channels=("x-demo",),
            by="warta-credentials",
            reason="account x-demo connected again",
        )
    )
    overview = await console.call("GET", "/v1/overview")
    assert [r["channel"] for r in overview.body["needs_reauth"]] == ["telegram-demo"]


async def test_a_scoped_key_may_not_act_or_replay_elsewhere(console: Console, kafka_bootstrap: str) -> None:
    console.view.apply(job(JobState.FAILED, channel="x-demo"))
    console.view.apply(
        DeadLettered(
            event_id="d1",
            occurred_at=NOW,
            source_topic="publish.x",
            reason="bad",
            job_id="c1:x-demo",
            channel="x-demo",
        )
    )
    console.view.apply(DeadLettered(event_id="d2", occurred_at=NOW, source_topic="publish.x", reason="junk"))
    acted = await console.act("c1:x-demo", "retry", key="telegram")
    assert (acted.status, acted.body["errors"][0]["rule"]) == (403, "channel_forbidden")
    for method, path in (("GET", "/v1/dead/d1"), ("POST", "/v1/dead/d1/replay"), ("GET", "/v1/dead/d2")):
        answer = await console.call(method, path, key="telegram")
        assert answer.status == 403, (method, path)
    listed = await console.call("GET", "/v1/dead", key="telegram")
    assert (listed.body["dead"], listed.body["total"]) == ([], 0)
    deliveries = await console.call("GET", "/v1/webhooks/deliveries", key="telegram")
    assert deliveries.status == 403
    assert await operator_outcomes(console, kafka_bootstrap) == []
    assert (await console.call("POST", "/v1/dead/d1/replay", {"reason": "fixed"})).status == 202


# ---- security headers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/", None, 200),
        ("/static/dashboard.js", None, 200),
        ("/static/page.js", None, 200),
        ("/v1/overview", "all", 200),
        ("/v1/overview", None, 401),
        ("/v1/overview", "editor", 403),
        ("/no/such/page", None, 404),
        ("/metrics", None, 200),
    ],
)
async def test_every_response_carries_the_security_headers(
    console: Console, path: str, key: str | None, status: int
) -> None:
    answer = await console.call("GET", path, key=key)
    assert answer.status == status
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, name
    csp = answer.headers["Content-Security-Policy"]
    for part in ("frame-ancestors 'none'", "script-src 'self'", "style-src 'self'"):
        assert part in csp
    assert "unsafe-inline" not in csp


def test_the_dashboard_needs_nothing_its_policy_forbids() -> None:
    """No inline script, handler or style in the page, and no style attribute set from the script:
    the CSP above blocks all of them, and the dashboard would silently break."""
    static = CHANNELS_FILE.parent.parent / "services" / "console" / "static"
    html = (static / "index.html").read_text(encoding="utf-8")
    js = (static / "dashboard.js").read_text(encoding="utf-8") + static_file(static, PAGE_SCRIPT).read_text(
        encoding="utf-8"
    )
    assert html.count("<script") == html.count('<script src="/static/') == 2
    for forbidden in ("<style", " style="):
        assert forbidden not in html
    assert not [w for w in html.split() if w.startswith("on") and "=" in w]
    for forbidden in ("style:", 'setAttribute("style"', "innerHTML", "eval(", "new Function"):
        assert forbidden not in js


async def test_problems_are_paged(console: Console) -> None:
    for n in range(5):
        console.view.apply(
            job(JobState.FAILED, n=n).model_copy(update={"occurred_at": NOW + timedelta(minutes=n)})
        )
    first = await console.call("GET", "/v1/problems?limit=2")
    assert [j["job_id"] for j in first.body["jobs"]] == ["c4:x-demo", "c3:x-demo"]
    cursor = first.body["next_cursor"]
    second = await console.call("GET", "/v1/problems?limit=3&cursor=" + quote(cursor, safe=""))
    assert [j["job_id"] for j in second.body["jobs"]] == ["c2:x-demo", "c1:x-demo", "c0:x-demo"]
    assert second.body["next_cursor"] is None
    for bad in (
        "limit=0",
        "limit=x",
        "limit=%C2%B2",
        "limit=501",
        "cursor=%C2%B2",
        "cursor=2026-11-27T01:00:00|c1:x-demo",  # no offset
        "cursor=2026-11-27T01:00:00%2B00:00|",
        "cursor=0001-01-01T00:00:00%2B01:00|c1:x-demo",
        "cursor=9999-12-31T23:59:59-01:00|c1:x-demo",
    ):
        answer = await console.call("GET", "/v1/problems?" + bad)
        assert answer.status == 422, bad


async def test_the_cli_replay_obeys_the_same_rules(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    """``warta dead replay`` calls the same console action: scope and settled state hold there too."""
    console.view.apply(job(JobState.UNCONFIRMED, channel="x-demo"))
    console.view.apply(job(JobState.DUE, channel="x-demo", n=2))
    for n in (1, 2):
        console.view.apply(
            DeadLettered(
                event_id=f"d{n}",
                occurred_at=NOW,
                source_topic="publish.x",
                reason="bad",
                job_id=f"c{n}:x-demo",
                channel="x-demo",
            )
        )
    url = str(console.client.make_url("")).rstrip("/")

    def warta(ident: str, key: str) -> int:
        argv = ["dead", "replay", ident, "--console-url", url, "--key", f"key-{key}"]
        try:
            return main(argv)
        except CliError as exc:
            return exc.code

    assert await asyncio.to_thread(warta, "d1", "telegram") == EXIT_REFUSED
    assert "channel_forbidden" in capsys.readouterr().err
    assert await asyncio.to_thread(warta, "d2", "all") == EXIT_REFUSED
    assert "not_settled" in capsys.readouterr().err
    assert await asyncio.to_thread(warta, "d1", "all") == 0
    assert "looks the post up before sending" in capsys.readouterr().out


@pytest.mark.promised  # the dashboard in Chromium: CI may not skip it
@pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed: run `make browser`")
async def test_the_dashboard_runs_under_its_policy_in_a_real_browser(console: Console) -> None:
    """Signed in, with a chart legend, a problem row and a plan to draw: no CSP violation, no error."""
    for n, at in enumerate((NOW, NOW + timedelta(seconds=2), NOW + timedelta(seconds=4))):
        console.deps.history.add(
            OffsetSnapshot(
                at=at,
                end_offsets={(console.topics.publish_outcomes, 0): 10 * n},
                lags=(PartitionLag("g", console.topics.publish_outcomes, 0, 5 * n, 10 * n),),
            )
        )
    console.view.apply(job(JobState.UNCONFIRMED, channel="telegram-demo"))
    console.view.apply(parked("x-demo"))
    url = str(console.client.make_url("/"))
    async with chromium() as page:
        await page.goto(url)
        await page.evaluate(
            "window.violations = []; document.addEventListener('securitypolicyviolation',"
            " (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI)); true"
        )
        await page.fill("#login-key", "key-all")
        await page.click("#login-button")
        await page.wait_for("Number(document.body.dataset.refreshed || 0) >= 1", what="a refresh")
        await page.wait_for(
            "document.querySelector('#problems tr[data-job=\"c1:telegram-demo\"] .action-retry') !== null",
            what="the unconfirmed job with its actions",
        )
        banner = "document.querySelector('#reauth-banner li[data-reauth=\"x-demo\"]')"
        assert await page.evaluate("!document.querySelector('#reauth-banner').hidden")
        assert "warta channels connect x-demo" in await page.evaluate(f"{banner}.textContent")
        # Each channel has its Connect action: a login button, or a token field for pasted ones.
        assert await page.evaluate(
            "document.querySelector('#accounts tr[data-account=\"x-demo\"] button.connect') !== null"
        )
        assert await page.evaluate(
            "document.querySelector('#accounts tr[data-account=\"telegram-demo\"] input[type=password]') !== null"
        )
        swatch = "getComputedStyle(document.querySelector('#legend-throughput i')).backgroundColor"
        assert await page.evaluate(swatch) not in ("", "rgba(0, 0, 0, 0)")
        assert await page.evaluate("window.violations") == []
        assert page.errors == []
        # The guides' "connect an account": the banner naming the channel, and its Connect action.
        await screenshot_for_docs(page, "dashboard-accounts-en.png")
        await page.evaluate(
            "(() => { const s = document.querySelector('#lang'); s.value = 'id';"
            " s.dispatchEvent(new Event('change')); return true; })()"
        )
        await page.wait_for(
            "document.querySelector('#accounts button.connect').textContent === 'Hubungkan'", what="Bahasa"
        )
        await screenshot_for_docs(page, "dashboard-accounts-id.png")
        assert page.errors == []
