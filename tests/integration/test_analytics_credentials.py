"""The analytics worker on a host without a publisher reads the SMTP password's entry as the
credentials topic holds it: stored on another host, carried here only by the topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.analytics.delivery_wiring import caught_up_credentials, delivery_plan
from services.analytics.settings import AnalyticsSettings
from shared.credentials.credential_topic import share
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka import delete_topics, ensure_topics, make_producer

pytestmark = pytest.mark.integration


async def test_the_smtp_password_stored_on_another_host_reaches_the_delivery(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    key = generate_key()
    settings = AnalyticsSettings(
        _env_file=None,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{run_id}.",
        group_prefix=f"t{run_id}",
        partitions=3,
        state_dir=tmp_path / "state",
        smtp_host="smtp.example",
        smtp_user="laporan",
        smtp_password_secret="smtp-laporan",
        secrets_file=tmp_path / "analytics-host" / "secrets.json",
        credentials_file=tmp_path / "analytics-host" / "credentials.vault",
        credentials_key=key,
        report_mail_from="laporan@example.go.id",
        report_mail_to=("pimpinan@example.go.id",),
    )
    topic = settings.topics.credentials
    await ensure_topics(kafka_bootstrap, [s for s in settings.topics.specs() if s.name == topic])
    console = CredentialVault(tmp_path / "console-host" / "credentials.vault", keyring([key]))
    producer = make_producer(kafka_bootstrap, "test-analytics-credentials")
    await producer.start()
    try:
        await share(producer, topic, console, CredentialRecord(account="smtp-laporan", access_token="s3cret"))
        await caught_up_credentials(settings)
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, settings.topics.prefix)
    plan = delivery_plan(settings)
    assert plan.mail is not None
    assert plan.mail.server.password == "s3cret"
