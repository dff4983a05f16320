"""A 401 whose refresh has not given a new token yet is a retry, not a parked channel: the token
endpoint failing for now, or a refresh another worker is still running, leaves the grant as it
was, so the job is retried with backoff and goes out once the refresh succeeds. Only a refresh the
authorization server refused for good, or a record already parked, makes it needs_reauth.

The real ``RefreshingAdapter``, ``Refresher`` and decision table, against the in-process
authorization servers of ``token_world`` behind a token endpoint that can be down."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from services.publisher.adapters.port import AdapterError, AuthExpired, PublishRequest, Target, Temporary
from services.publisher.credentials import RefreshTemporary
from services.publisher.credentials.auth_retry import RefreshingAdapter
from services.publisher.credentials.refresher import Refresher
from services.publisher.decide import RetryPolicy, decide
from shared.credentials.secret_store import SecretStore
from shared.credentials.token_client import AppCredentials, Grant
from shared.events import Content, OutcomeStatus
from tests.unit.token_world import AuthorityAdapter, World, in_process

ACCOUNT = "x-demo"


class TokenEndpoint:
    """The authorization servers' token endpoint, answering 503 while ``down``, and answering
    after ``delay_s`` (having rotated the token at once, as a platform does)."""

    def __init__(self, world: World) -> None:
        self._inner = in_process(world.authorities)
        self.down = False
        self.delay_s = 0.0
        self.calls = 0

    async def __call__(self, platform: str, url: str, app: AppCredentials, refresh_token: str) -> Grant:
        self.calls += 1
        if self.delay_s:
            grant = await self._inner(platform, url, app, refresh_token)
            await asyncio.sleep(self.delay_s)
            return grant
        if self.down:
            raise RefreshTemporary("the token endpoint answered 503 temporarily_unavailable")
        return await self._inner(platform, url, app, refresh_token)


class Rig:
    """One channel of X whose access token expired unseen (the refresher was behind)."""

    def __init__(self, tmp_path: Path) -> None:
        self.world = World(tmp_path, platforms=("x",))
        self.endpoint = TokenEndpoint(self.world)
        self.platform = AuthorityAdapter(self.world.authorities["x"])
        refresher = Refresher(self.world.vault, self.endpoint, self.world.clock)
        self.adapter = RefreshingAdapter(self.platform, refresher, {ACCOUNT: ACCOUNT}, refresh_wait_s=0.05)
        self.world.clock.advance(hours=3)

    def target(self) -> Target:
        """As the worker builds it for each job: the account's current token."""
        credentials = SecretStore.from_vault(self.world.new_vault()).get(ACCOUNT)
        return Target(channel=ACCOUNT, account=ACCOUNT, base_url="", credentials=credentials)

    async def publish(self, job: str) -> OutcomeStatus:
        request = PublishRequest(job_id=job, attempt=1, content=Content(text="Kabar"), marker="m")
        try:
            await self.adapter.publish(self.target(), request)
        except AdapterError as exc:
            return decide(exc, 1, self.world.clock(), RetryPolicy(), random.Random(0)).status
        return OutcomeStatus.PUBLISHED


async def test_a_token_endpoint_down_for_now_makes_the_job_a_retry_and_it_goes_out_after(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    rig.endpoint.down = True
    request = PublishRequest(job_id="j1", attempt=1, content=Content(text="Kabar"), marker="m")
    with pytest.raises(Temporary) as pending:
        await rig.adapter.publish(rig.target(), request)
    assert pending.value.code == "token_refresh_pending"
    assert isinstance(pending.value.__cause__, AuthExpired)
    assert await rig.publish("j1") == OutcomeStatus.RETRY
    record = rig.world.vault.fresh(ACCOUNT)
    assert record is not None
    assert record.status == "connected"
    rig.endpoint.down = False  # the retry, once the endpoint answers again
    assert await rig.publish("j1") == OutcomeStatus.PUBLISHED
    assert rig.platform.posts == ["j1"]


async def test_a_refresh_another_worker_is_still_running_makes_the_job_a_retry(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    with rig.world.new_vault().refresh_lock(ACCOUNT) as held:  # another worker's refresh, in flight
        assert held
        assert await rig.publish("j1") == OutcomeStatus.RETRY
    assert rig.endpoint.calls == 0
    assert await rig.publish("j1") == OutcomeStatus.PUBLISHED


async def test_a_refresh_refused_for_good_parks_the_channel(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.world.authorities["x"].revoke_account(ACCOUNT)
    assert await rig.publish("j1") == OutcomeStatus.NEEDS_REAUTH
    record = rig.world.vault.fresh(ACCOUNT)
    assert record is not None
    assert record.status == "needs_reauth"


async def test_a_record_already_parked_parks_the_channel_without_asking_the_endpoint(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    stale = rig.target()
    record = rig.world.vault.fresh(ACCOUNT)
    assert record is not None
    rig.world.vault.put(record.parked("refresh refused: invalid_grant"))
    request = PublishRequest(job_id="j1", attempt=1, content=Content(text="Kabar"), marker="m")
    with pytest.raises(AuthExpired):
        await rig.adapter.publish(stale, request)
    assert rig.endpoint.calls == 0


async def test_a_publish_cut_off_by_its_time_limit_lets_its_refresh_finish(tmp_path: Path) -> None:
    # The worker bounds each publish (call_timeout_s); the refresh a 401 started must outlive it,
    # or the token the platform has just rotated would be lost with the cancelled call.
    rig = Rig(tmp_path)
    rig.endpoint.delay_s = 0.2
    request = PublishRequest(job_id="j1", attempt=1, content=Content(text="Kabar"), marker="m")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(rig.adapter.publish(rig.target(), request), 0.05)
    for _ in range(100):
        record = rig.world.vault.fresh(ACCOUNT)
        if record is not None and record.version == 1:
            break
        await asyncio.sleep(0.01)
    assert record is not None
    assert rig.world.authorities["x"].account_for(record.access_token) == ACCOUNT
    assert await rig.publish("j1") == OutcomeStatus.PUBLISHED
