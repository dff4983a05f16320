"""Two publisher workers on two "hosts" (each its own vault directory), one rotating refresh
token (TikTok's rules, 2-second access tokens), sharing the credentials topic on the real broker:
both see every rotation, only the owner of the account's partition refreshes, a kill of the owner
in the middle of a refresh keeps the account connected, and the topic never holds the token in
clear."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from aiokafka import TopicPartition

from shared.credentials.credential_topic import CredentialFollower, send_records
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka import delete_topics, ensure_topics, make_producer, replay
from shared.topics import TopicRegistry
from tests.integration.refresh_rig import (
    ACCOUNT,
    TokenPlatform,
    close,
    kill,
    lock_holder,
    token_platform,
    until,
)

pytestmark = pytest.mark.integration


@dataclass
class Hosts:
    """Hosts with a vault each (``tmp``/<host>), sharing the credentials topic and its group."""

    platform: TokenPlatform
    kafka: str
    topics: TopicRegistry
    group: str
    tmp: Path

    def vault(self, host: str) -> CredentialVault:
        return CredentialVault(self.tmp / host / "credentials.vault", keyring([self.platform.key]))

    def record(self, host: str) -> CredentialRecord | None:
        return self.vault(host).fresh(ACCOUNT)

    async def worker(self, host: str) -> subprocess.Popen[str]:
        return await self.platform.worker(
            self.vault(host), self.topics.credentials, self.group, kafka=self.kafka
        )


@pytest.fixture
async def hosts(kafka_bootstrap: str, tmp_path: Path, run_id: str) -> AsyncIterator[Hosts]:
    topics = TopicRegistry(prefix=f"t{run_id}.", partitions=3)
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.credentials])
    async with token_platform(generate_key()) as platform:
        rig = Hosts(platform, kafka_bootstrap, topics, f"g{run_id}", tmp_path)
        # Connected once, from a third machine (the console's): only the topic has it.
        producer = make_producer(kafka_bootstrap, "test-credentials-topic")
        await producer.start()
        try:
            await send_records(producer, topics.credentials, rig.vault("console"), [platform.connected()])
        finally:
            await producer.stop()
        try:
            yield rig
        finally:
            await delete_topics(kafka_bootstrap, topics.prefix)


def _counts(proc: subprocess.Popen[str]) -> dict[str, int]:
    assert proc.stdout is not None
    counts: dict[str, int] = orjson.loads(proc.stdout.read().strip().splitlines()[-1])
    return counts


async def _stop_and_count(workers: list[subprocess.Popen[str]]) -> list[dict[str, int]]:
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
    counts = [await asyncio.to_thread(_counts, p) for p in workers]
    for proc in workers:
        await asyncio.to_thread(proc.wait, 10)
        close(proc)
    return counts


async def _raw_values(kafka: str, topic: str) -> list[bytes]:
    tps = [TopicPartition(topic, p) for p in range(3)]
    return [m.value async for m in replay(kafka, tps) if m.value is not None]


async def test_two_hosts_see_one_rotation_and_refresh_one_at_a_time(hosts: Hosts) -> None:
    workers = [await hosts.worker("host-a"), await hosts.worker("host-b")]
    try:
        await until(lambda: hosts.platform.authority.refreshes[ACCOUNT] >= 3, 30)

        # Both hosts' vaults follow the topic to the same, current refresh token.
        def same() -> bool:
            a, b = hosts.record("host-a"), hosts.record("host-b")
            return a is not None and b is not None and a.refresh_token == b.refresh_token and a.version >= 3

        await until(same, 10)
    finally:
        counts = await _stop_and_count(workers)
    refreshed = [c["refreshes"] for c in counts]
    # The partition's owner refreshes; ownership may move once, when the second host joins the
    # group after the first one's first refresh. Two refreshers at once would spend one rotating
    # refresh token twice: the platform refuses the second and the account is parked.
    assert [c["parked"] for c in counts] == [0, 0], counts
    assert sum(refreshed) == hosts.platform.authority.refreshes[ACCOUNT]
    record = hosts.record("host-b")
    assert record is not None
    assert record.status == "connected", record.reason
    status, body = hosts.platform.refresh_works(record)
    assert status == 200, body  # the shared refresh token is the live one
    # Never in clear on the topic: neither the tokens nor the client secret.
    raw = b"".join(await _raw_values(hosts.kafka, hosts.topics.credentials))
    assert raw
    for secret in (record.access_token, record.refresh_token or "", "tt-secret", ACCOUNT):
        assert secret.encode() not in raw
    print(f"\ncredentials topic: refreshes per worker {refreshed}, version {record.version}")


async def test_killing_the_owner_in_the_middle_of_a_refresh_leaves_the_account_connected(
    hosts: Hosts,
) -> None:
    workers = {"host-a": await hosts.worker("host-a"), "host-b": await hosts.worker("host-b")}
    try:
        await until(lambda: hosts.platform.authority.refreshes[ACCOUNT] >= 1, 30)
        before = hosts.platform.refresh_requests()
        await hosts.platform.fault("drop", delay_s=3.0)  # the platform holds the next refresh, unspent
        await until(lambda: hosts.platform.refresh_requests() > before, 10)
        pids = {w.pid for w in workers.values()}
        owner = None

        def found() -> bool:
            nonlocal owner
            owner = next((h for h in workers if lock_holder(hosts.vault(h), pids) is not None), None)
            return owner is not None

        await until(found, 5)
        assert owner is not None
        victim = workers.pop(owner)
        killed_at = asyncio.get_running_loop().time()
        await kill(victim)
        (survivor,) = workers
        version = max(r.version for h in ("host-a", "host-b") if (r := hosts.record(h)) is not None)
        # After the group's session timeout the survivor owns the partition and refreshes with the
        # refresh token the platform never spent.
        await until(lambda: (r := hosts.record(survivor)) is not None and r.version > version + 1, 40)
        took = asyncio.get_running_loop().time() - killed_at
    finally:
        await _stop_and_count(list(workers.values()))
    record = hosts.record(survivor)
    assert record is not None
    assert record.status == "connected", record.reason
    status, body = hosts.platform.refresh_works(record)
    assert status == 200, body
    print(f"\nowner killed mid-refresh: the survivor refreshed {took:.1f} s later, account connected")


async def test_a_record_no_key_opens_is_skipped_and_the_follower_goes_on(hosts: Hosts) -> None:
    stranger = CredentialVault(hosts.tmp / "stranger" / "credentials.vault", keyring([generate_key()]))
    later = CredentialRecord(account="x-demo", access_token="x-token", platform="x")
    producer = make_producer(hosts.kafka, "test-credentials-stranger")
    await producer.start()
    try:
        foreign = CredentialRecord(account=ACCOUNT, access_token="not-ours", platform="tiktok")
        await send_records(producer, hosts.topics.credentials, stranger, [foreign])
        await send_records(producer, hosts.topics.credentials, hosts.vault("console"), [later])
    finally:
        await producer.stop()
    follower = CredentialFollower(hosts.kafka, hosts.topics.credentials, hosts.vault("host-c"))
    await follower.start()
    await follower.stop()
    assert follower.unreadable == 1
    kept = hosts.record("host-c")  # the account keeps the last record it could open
    assert kept is not None
    assert kept.access_token != "not-ours"
    after = hosts.vault("host-c").fresh("x-demo")
    assert after is not None
    assert after.access_token == "x-token"
