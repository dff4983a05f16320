"""Settings for the scheduler and a publisher run as in production (their ``run``) against one
channel of the sandbox, on a test's fresh topics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.publisher.settings import PublisherSettings
from services.scheduler.settings import SchedulerSettings
from shared.credentials.keys import generate_key
from shared.topics import TopicRegistry


def service_settings(
    bootstrap: str, topics: TopicRegistry, tmp_path: Path, channel: dict[str, Any], **publisher: Any
) -> tuple[PublisherSettings, SchedulerSettings]:
    """A publisher of ``channel``'s platform (quick retries; ``publisher``: more of its settings)
    and the naive scheduler, for ``channel`` alone, their files under ``tmp_path``."""
    (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": [channel]}))
    common: dict[str, Any] = {
        "kafka_bootstrap": bootstrap,
        "topic_prefix": topics.prefix,
        "partitions": topics.partitions,
        "group_prefix": topics.prefix.rstrip("."),
        "channels_file": tmp_path / "channels.yaml",
        "state_dir": tmp_path / "state",
    }
    return (
        PublisherSettings(
            **common,
            platform=channel["platform"],
            credentials_file=tmp_path / "credentials.vault",
            credentials_key=generate_key(),
            secrets_file=tmp_path / "secrets.json",
            retry_base_s=0.3,
            retry_cap_s=2.0,
            **publisher,
        ),
        SchedulerSettings(**common, policy="naive", keep_store=False),
    )
