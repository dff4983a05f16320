"""Tokens that refresh themselves: ahead of expiry, one refresher, rotation kept, 401 retried once,
a refused refresh parks the account with its reason; and a simulated week with each platform's
documented lifetimes."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.oauth import TokenAuthority
from services.publisher.adapters.port import Adapter, AuthExpired, Credentials, PublishRequest, Target
from services.publisher.credentials import policy
from services.publisher.credentials.auth_retry import RefreshingAdapter, refused_before_acting
from services.publisher.credentials.policy import lead, refresh_due
from shared.credentials import SecretsError
from shared.credentials.record import CredentialRecord
from shared.credentials.secret_store import SecretStore, credentials_of
from shared.events import Content
from tests.unit.token_world import START, AuthorityAdapter, World, connected


def _request(job: str) -> PublishRequest:
    return PublishRequest(job_id=job, attempt=1, content=Content(text="hello"), marker="m")


def _target(channel: str, credentials: Credentials) -> Target:
    return Target(channel=channel, account=channel, base_url="", credentials=credentials)


@pytest.mark.parametrize(
    ("life_s", "lead_s"),
    [(7200, 600), (3599, 600), (20, 4), (2, 1), (86_400, 600)],
)
def test_the_lead_time_follows_the_tokens_own_life(life_s: int, lead_s: float) -> None:
    record = CredentialRecord(
        account="a",
        access_token="t",
        refresh_token="r",
        issued_at=START,
        expires_at=START + timedelta(seconds=life_s),
    )
    assert lead(record).total_seconds() == pytest.approx(lead_s, abs=0.5)
    assert not refresh_due(record, START + timedelta(seconds=life_s) - lead(record) - timedelta(seconds=1))
    assert refresh_due(record, START + timedelta(seconds=life_s) - lead(record))


def _token(issued: datetime | None, expires: datetime, *, self_refreshing: bool) -> CredentialRecord:
    return CredentialRecord(
        account="a",
        access_token="THAAtoken",
        refresh_token="THAAtoken" if self_refreshing else "refresh",
        issued_at=issued,
        expires_at=expires,
    )


JAN1 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("issued", "expires", "self_refreshing", "refresh_at"),
    [
        # Threads' 60-day token renews itself a week ahead: day 53, not ten minutes before the end
        (JAN1, JAN1 + timedelta(days=60), True, datetime(2026, 2, 23, tzinfo=UTC)),
        # ... however it was connected: a pasted one without its issue time too
        (None, datetime(2026, 3, 2, tzinfo=UTC), True, datetime(2026, 2, 23, tzinfo=UTC)),
        # a shorter one as soon as it is a day old, the earliest Threads takes it
        (JAN1, datetime(2026, 1, 4, tzinfo=UTC), True, datetime(2026, 1, 2, tzinfo=UTC)),
        # one that never reaches a day old can't be renewed early: the general lead
        (JAN1, datetime(2026, 1, 1, 12, tzinfo=UTC), True, datetime(2026, 1, 1, 11, 50, tzinfo=UTC)),
        # a token with its own refresh token keeps the general lead (LinkedIn 60 days, X 2 h)
        (JAN1, JAN1 + timedelta(days=60), False, datetime(2026, 3, 1, 23, 50, tzinfo=UTC)),
        (JAN1, datetime(2026, 1, 1, 2, tzinfo=UTC), False, datetime(2026, 1, 1, 1, 50, tzinfo=UTC)),
    ],
)
def test_a_token_that_is_its_own_refresh_token_is_renewed_days_ahead(
    issued: datetime | None, expires: datetime, self_refreshing: bool, refresh_at: datetime
) -> None:
    record = _token(issued, expires, self_refreshing=self_refreshing)
    assert policy.refresh_at(record) == refresh_at
    assert not refresh_due(record, refresh_at - timedelta(seconds=1))
    assert refresh_due(record, refresh_at)


@given(
    life=st.timedeltas(min_value=timedelta(hours=25), max_value=timedelta(days=90)),
    issued=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
)
def test_a_self_refreshing_token_is_renewed_while_valid_old_enough_and_a_week_ahead_when_it_can(
    life: timedelta, issued: datetime
) -> None:
    at = policy.refresh_at(_token(issued, issued + life, self_refreshing=True))
    assert at is not None
    assert issued + policy.SELF_REFRESH_MIN_AGE <= at < issued + life
    assert issued + life - at >= min(policy.SELF_REFRESH_LEAD, life - policy.SELF_REFRESH_MIN_AGE)


async def test_a_rotated_refresh_token_is_stored_before_the_new_access_token_is_used(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("tiktok",))
    before = world.vault.fresh("tiktok-demo")
    assert before is not None
    world.clock.advance(hours=2)  # the access token just expired
    fresh = await world.refresher().ensure_fresh("tiktok-demo")
    assert fresh is not None
    assert fresh.refresh_token != before.refresh_token
    on_disk = world.new_vault().fresh("tiktok-demo")
    assert on_disk is not None
    assert on_disk.refresh_token == fresh.refresh_token
    # The old refresh token stopped working (TikTok rotates): using it now is refused.
    status, body = world.authorities["tiktok"].token(
        {"client_key": "tiktok-app", "grant_type": "refresh_token", "refresh_token": before.refresh_token}
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_two_workers_due_at_once_refresh_a_rotating_token_once(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("x",))
    first, second = world.refresher(), world.refresher(world.new_vault())
    world.clock.advance(minutes=115)
    a = await first.ensure_fresh("x-demo")
    b = await second.ensure_fresh("x-demo")
    assert a is not None
    assert b is not None
    assert a.access_token == b.access_token
    assert first.refreshes["x"] + second.refreshes["x"] == 1
    assert world.authorities["x"].refreshes["x-demo"] == 1


@pytest.mark.parametrize("call", ["publish", "reply"])
async def test_a_401_is_answered_by_one_refresh_and_the_post_made_once(tmp_path: Path, call: str) -> None:
    world = World(tmp_path, platforms=("x",))
    stale = SecretStore.from_vault(world.vault).get("x-demo")
    world.clock.advance(hours=3)  # the refresher was stopped: the token expired unseen
    inner = AuthorityAdapter(world.authorities["x"])
    adapter = RefreshingAdapter(inner, world.refresher(), {"x-chan": "x-demo"})
    posted = await getattr(adapter, call)(_target("x-chan", stale), _request("j1"))
    assert (posted.post_id, inner.posts) == ("1", ["j1"])
    assert adapter.repeated_with_fresh_token == 1


async def test_a_401_on_a_token_another_worker_already_replaced_uses_that_token(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("x",))
    stale = SecretStore.from_vault(world.vault).get("x-demo")
    world.clock.advance(hours=3)
    await world.refresher(world.new_vault()).ensure_fresh("x-demo")  # the other worker
    adapter = RefreshingAdapter(
        AuthorityAdapter(world.authorities["x"]), world.refresher(), {"x-chan": "x-demo"}
    )
    await adapter.publish(_target("x-chan", stale), _request("j1"))
    assert world.authorities["x"].refreshes["x-demo"] == 1


def test_every_call_of_the_adapter_protocol_is_passed_on_not_left_to_its_default() -> None:
    # The protocol's defaults refuse (a reply "not supported"): one not passed on is lost silently.
    calls = {name for name, value in vars(Adapter).items() if callable(value) and not name.startswith("_")}
    assert calls >= {"publish", "reply", "moderate", "find_reply", "poll_results"}
    assert sorted(calls - vars(RefreshingAdapter).keys()) == []


async def test_no_retry_when_the_refusal_is_not_a_401(tmp_path: Path) -> None:
    assert not refused_before_acting(AuthExpired("forbidden", code="forbidden", http_status=403))
    assert not refused_before_acting(AuthExpired("no status", code="x"))
    assert refused_before_acting(AuthExpired("Unauthorized", code="unauthorized", http_status=401))


async def test_a_revoked_grant_parks_the_account_with_the_reason_and_a_reconnect_resumes_it(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, platforms=("tiktok",))
    world.authorities["tiktok"].revoke_account("tiktok-demo")
    world.clock.advance(hours=2)
    refresher = world.refresher()
    parked = await refresher.ensure_fresh("tiktok-demo")
    assert parked is not None
    assert parked.status == "needs_reauth"
    assert "invalid_grant" in parked.reason
    assert refresher.parked["tiktok"] == 1
    store = SecretStore.from_vault(world.vault)
    with pytest.raises(SecretsError, match=r"needs re-connecting.*invalid_grant"):
        store.get("tiktok-demo")
    # Reconnecting writes a new connected record: the account works again.
    again = connected("tiktok-demo", "tiktok", world.authorities["tiktok"], world.clock())
    world.vault.put(CredentialRecord(**{**again.__dict__, "version": parked.version + 1}))
    assert store.get("tiktok-demo").token == again.access_token


async def test_an_expired_refresh_token_is_refused_for_good(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("tiktok",))
    record = world.vault.fresh("tiktok-demo")
    assert record is not None
    assert record.refresh_expires_at is not None
    world.clock.now = record.refresh_expires_at + timedelta(seconds=1)
    parked = await world.refresher().ensure_fresh("tiktok-demo")
    assert parked is not None
    assert parked.status == "needs_reauth"
    assert "expired" in parked.reason


@dataclass
class Run:
    published: Counter[str]
    expired: Counter[str]
    refreshes: Counter[str]  # as the platforms counted them

    def __str__(self) -> str:
        return " | ".join(
            f"{p}: refreshes {self.refreshes[p]}, published {self.published[p]}, AuthExpired {self.expired[p]}"
            for p in sorted(self.refreshes)
        )


async def _simulate(world: World, days: int, posts: int, tick_minutes: int = 5) -> Run:
    """Two workers sharing the vault, both running the refresher every ``tick_minutes``; posts
    at random minutes of the period, each sent with the token the worker's store holds then."""
    rng = random.Random(7)
    workers = [world.refresher(), world.refresher(world.new_vault())]
    stores = [SecretStore.from_vault(w.vault) for w in workers]
    plan = sorted((rng.randrange(days * 24 * 60), p) for p in world.platforms for _ in range(posts))
    run = Run(Counter(), Counter(), Counter())
    accounts = [f"{p}-demo" for p in world.platforms]
    minute = 0
    for at, platform in plan:
        while minute <= at:
            world.clock.now = START + timedelta(minutes=minute)
            for worker in workers:
                await worker.tick(accounts)
            minute += tick_minutes
        world.clock.now = START + timedelta(minutes=at)
        token = credentials_of(_record(stores[at % 2], f"{platform}-demo")).token
        if world.authorities[platform].account_for(token) is None:
            run.expired[platform] += 1
        else:
            run.published[platform] += 1
    run.refreshes = Counter({p: world.authorities[p].refreshes[f"{p}-demo"] for p in world.platforms})
    # Every refresh a platform counted was one worker's, once: no rotating token spent twice.
    assert sum(w.refreshes[p] for w in workers for p in world.platforms) == sum(run.refreshes.values())
    return run


EVERY_TOKEN_PLATFORM = ("x", "youtube", "tiktok", "linkedin", "mastodon", "threads", "facebook", "instagram")


async def test_a_simulated_week_publishes_every_planned_post_without_an_auth_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each platform's documented lifetimes: X 2 h and TikTok 2 h (rotating), Google 1 h,
    LinkedIn 60 days, Threads 60 days (th_refresh_token), Mastodon and the Page tokens of
    Facebook and Instagram never. Every post must find a live token: 0 AuthExpired."""
    run = await _simulate(World(tmp_path, platforms=EVERY_TOKEN_PLATFORM), days=7, posts=60)
    with capsys.disabled():
        print(f"\nweek: {run}")
    assert sum(run.expired.values()) == 0
    assert run.published == Counter({p: 60 for p in EVERY_TOKEN_PLATFORM})
    # One refresh per access-token life, ahead of expiry: 7 days / (2 h - 10 min) ≈ 92, / 50 min ≈ 202.
    assert 85 <= run.refreshes["x"] <= 95
    assert 85 <= run.refreshes["tiktok"] <= 95
    assert 195 <= run.refreshes["youtube"] <= 205
    # A 60-day token outlives the week; Mastodon's and a Page token never expire.
    for platform in ("linkedin", "threads", "mastodon", "facebook", "instagram"):
        assert run.refreshes[platform] == 0, platform


async def test_sixty_day_tokens_refresh_ahead_of_expiry_over_five_months(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LinkedIn (its refresh token lives a year from the first consent, not extended) and
    Threads (the token refreshes itself) over 150 days: two refreshes each, 0 AuthExpired."""
    run = await _simulate(
        World(tmp_path, platforms=("linkedin", "threads")), days=150, posts=60, tick_minutes=10
    )
    with capsys.disabled():
        print(f"\n150 days: {run}")
    assert sum(run.expired.values()) == 0
    assert run.published == Counter({"linkedin": 60, "threads": 60})
    assert run.refreshes == Counter({"linkedin": 2, "threads": 2})


def _record(store: SecretStore, account: str) -> CredentialRecord:
    vault = store._vault
    assert vault is not None
    record = vault.get(account)
    assert record is not None
    assert record.status == "connected"
    return record


async def test_the_metrics_hook_counts_results_and_is_never_given_a_token(tmp_path: Path) -> None:
    from services.publisher.credentials.refresher import Refresher
    from tests.unit.token_world import in_process

    world = World(tmp_path, platforms=("x", "tiktok"))
    seen: list[tuple[str, str]] = []
    refresher = Refresher(
        world.vault, in_process(world.authorities), world.clock, on_result=lambda p, r: seen.append((p, r))
    )
    world.authorities["tiktok"].revoke_account("tiktok-demo")
    world.clock.advance(hours=2)
    await refresher.tick(["x-demo", "tiktok-demo"])
    assert seen == [("x", "refreshed"), ("tiktok", "parked")]


async def test_an_engagement_read_refused_with_401_is_read_again_with_a_fresh_token(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("youtube",))
    stale = SecretStore.from_vault(world.vault).get("youtube-demo")
    world.clock.advance(hours=2)
    inner = AuthorityAdapter(world.authorities["youtube"])
    adapter = RefreshingAdapter(inner, world.refresher(), {"yt": "youtube-demo"})
    counts = await adapter.engagement(_target("yt", stale), "post-1")
    assert counts.reactions == 0
    assert world.authorities["youtube"].refreshes["youtube-demo"] == 1


async def test_no_token_reaches_the_logs_or_an_error_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    world = World(tmp_path, platforms=("x", "tiktok"))
    refresher = world.refresher()
    world.clock.advance(hours=2)
    await refresher.tick(["x-demo", "tiktok-demo"])  # refreshed
    world.authorities["tiktok"].revoke_account("tiktok-demo")
    world.clock.advance(hours=2)
    await refresher.tick(["x-demo", "tiktok-demo"])  # x refreshed again, tiktok parked
    messages = [caplog.text]
    store = SecretStore.from_vault(world.vault)
    with pytest.raises(SecretsError) as parked:
        store.get("tiktok-demo")
    messages.append(str(parked.value))
    record = world.vault.get("x-demo")
    messages.append(repr(record))
    issued = [
        t
        for a in world.authorities.values()
        if isinstance(a, TokenAuthority)
        for t in (*a.access, *a.refresh)
    ]
    assert len(issued) >= 4
    assert "refreshed x-demo" in caplog.text
    for text in messages:
        assert not [t for t in issued if t in text]
