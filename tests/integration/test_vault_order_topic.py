"""Several processes of one host follow the credentials topic into one vault file. One that is
behind in the topic (started later, or slower) must never put an older credential back over a
newer one: a refresher reading it would spend a rotated-away refresh token. Real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.credentials.credential_topic import (
    CredentialFollower,
    following,
    send_records,
    share,
    share_accounts,
)
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka import delete_topics, ensure_topics, make_producer, replay
from shared.settings import CommonSettings
from shared.topics import TopicRegistry

pytestmark = pytest.mark.integration
ACCOUNT = "tiktok-demo"
KEY = generate_key()


def _record(token: str, version: int) -> CredentialRecord:
    return CredentialRecord(
        account=ACCOUNT,
        access_token="at-" + token,
        refresh_token="rt-" + token,
        platform="tiktok",
        version=version,
    )


def _vault(path: Path) -> CredentialVault:
    return CredentialVault(path / "credentials.vault", keyring([KEY]))


@pytest.fixture
async def producer(kafka_bootstrap: str, topics: TopicRegistry) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.credentials])
    producer = make_producer(kafka_bootstrap, "test-vault-order")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def _account_records(
    kafka: str, producer: AIOKafkaProducer, topic: str
) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
    """The account's records as the topic holds them, in its one partition (a real batch)."""
    tps = [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
    messages = [m async for m in replay(kafka, tps) if m.key == ACCOUNT.encode()]
    return {TopicPartition(topic, messages[0].partition): messages}


def _held(host: Path) -> tuple[CredentialRecord | None, int | None]:
    vault = _vault(host)
    return vault.fresh(ACCOUNT), vault.offset(ACCOUNT)


async def test_a_follower_behind_never_puts_an_older_record_back(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    topic = topics.credentials
    # Two rotations, written from another host: only the topic has them.
    await send_records(producer, topic, _vault(tmp_path / "console"), [_record("one", 1), _record("two", 2)])
    host = tmp_path / "host"
    async with following(kafka_bootstrap, topic, _vault(host)) as ahead:
        assert _held(host)[0] == _record("two", 2)
        behind = CredentialFollower(kafka_bootstrap, topic, _vault(host))  # a second process, same file
        await behind.start()
        try:
            # A connect on this host whose vault lagged: a lower version, yet the newest record.
            await share(producer, topic, _vault(host), _record("three", 0))
            newest = _held(host)
            assert newest[0] == _record("three", 0)
            assert newest[1] is not None
            (tp, messages), *_ = (await _account_records(kafka_bootstrap, producer, topic)).items()
            assert [m.offset for m in messages][-1] == newest[1]
            # The follower behind applies the records before it, one batch at a time, then all.
            for upto in range(1, len(messages)):
                behind._apply_batch({tp: messages[:upto]})
                assert _held(host) == newest
            behind._apply_batch({tp: messages})
            assert _held(host) == newest
            assert await ahead.caught_up()
            assert _held(host) == newest
        finally:
            await behind.stop()


async def test_a_follower_started_later_leaves_a_newer_local_write(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    """A process that starts after a refresh was written (topic first, then the vault with its
    offset) reads the whole topic from the start into the same vault: it ends where it began."""
    topic = topics.credentials
    host = tmp_path / "host"
    for n in range(1, 6):
        await share(producer, topic, _vault(host), _record(f"r{n}", n))
    newest = _held(host)
    assert newest[0] == _record("r5", 5)
    (tp, messages), *_ = (await _account_records(kafka_bootstrap, producer, topic)).items()
    later = CredentialFollower(kafka_bootstrap, topic, _vault(host))
    for message in messages:  # the slowest a follower can be: one record per batch
        later._apply_batch({tp: [message]})
        assert _held(host) == newest
    await later.start()
    await later.stop()
    assert _held(host) == newest


async def test_a_command_storing_in_the_vault_first_outlives_a_follower_behind(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    """``warta channels connect`` stores in the vault, then puts the accounts on the topic: a
    follower behind, in between, must not undo the connect (nor have the old record shared)."""
    topic = topics.credentials
    host = tmp_path / "host"
    await share(producer, topic, _vault(host), _record("older", 0))
    await share(producer, topic, _vault(host), _record("old", 1))
    (tp, messages), *_ = (await _account_records(kafka_bootstrap, producer, topic)).items()
    assert _vault(host).put(_record("connected", 0)) == [ACCOUNT]
    behind = CredentialFollower(kafka_bootstrap, topic, _vault(host))
    for upto in range(1, len(messages) + 1):
        behind._apply_batch({tp: messages[:upto]})
        assert _held(host)[0] == _record("connected", 0)
    settings = CommonSettings(
        _env_file=None, kafka_bootstrap=kafka_bootstrap, topic_prefix=topics.prefix, partitions=3
    )
    assert await share_accounts(settings, _vault(host), [ACCOUNT]) == 1
    record, offset = _held(host)
    assert record == _record("connected", 0)
    assert offset is not None
    assert offset > messages[-1].offset
    await behind.start()  # now reading the topic itself, the connect included
    await behind.stop()
    assert _held(host) == (record, offset)
