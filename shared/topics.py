"""Every Kafka topic Warta uses, declared once: name, partitions, configs, key.

``TopicRegistry`` applies a prefix (tests give each run fresh names) and lists the publish topic
of every platform. ``shared.kafka.ensure_topics`` creates them idempotently.

Who dead-letters a record nobody can decode is the registry's too: a topic that a consumer group
reads has that group's consumer dead-letter it (every other reader skips it); a topic whose only
reader is the service that writes it, reading it whole to rebuild its state (``sole_reader``),
has that reader dead-letter it (``owned_by``, ``shared.replay_letters``).

Durability is the registry's too: every topic gets the deployment's replication factor and
``min.insync.replicas``. With acks=all a write is acknowledged once ``min.insync.replicas``
copies have it, so 3/2 on a cluster survives one broker lost without losing an acknowledged
event and keeps accepting writes; the local single broker runs 1/1.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import overload

DAY_MS = 24 * 3600 * 1000
AUDIT_RETENTION_MS = 400 * DAY_MS  # a year of audit trail plus a margin for the annual report
DAYS_RETENTION_MS = 7 * DAY_MS

PLATFORMS: tuple[str, ...] = (
    "mastodon",
    "telegram",
    "facebook",
    "instagram",
    "x",
    "wordpress",
    "webhook",
    "bluesky",
    "threads",
    "linkedin",
    "youtube",
    "tiktok",
    "whatsapp",
)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    configs: dict[str, str] = field(default_factory=dict)
    purpose: str = ""
    replication: int = 1
    # The service that alone reads this topic (no consumer group does): it dead-letters the
    # records it cannot decode, since no one else ever will. Empty: a group's consumer does.
    sole_reader: str = ""


def _audit() -> dict[str, str]:
    return {"cleanup.policy": "delete", "retention.ms": str(AUDIT_RETENTION_MS)}


def _working() -> dict[str, str]:
    # Work in flight (due jobs, commands, idempotency claims): deleted a week on, long past its use.
    return {"cleanup.policy": "delete", "retention.ms": str(DAYS_RETENTION_MS)}


def _compacted() -> dict[str, str]:
    # min.compaction.lag keeps recent history readable for debugging before it is compacted away.
    return {"cleanup.policy": "compact", "min.compaction.lag.ms": str(3600 * 1000)}


class _Topic:
    """A topic of the registry, declared by its base name: read on a registry, its full name."""

    def __init__(self, base: str) -> None:
        self.base = base

    @overload
    def __get__(self, registry: None, owner: type[TopicRegistry]) -> _Topic: ...
    @overload
    def __get__(self, registry: TopicRegistry, owner: type[TopicRegistry]) -> str: ...
    def __get__(self, registry: TopicRegistry | None, owner: type[TopicRegistry]) -> _Topic | str:
        return self if registry is None else registry.name(self.base)


@dataclass(frozen=True)
class TopicRegistry:
    prefix: str = ""
    partitions: int = 6
    replication_factor: int = 1
    min_insync_replicas: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.min_insync_replicas <= self.replication_factor:
            raise ValueError(
                f"min.insync.replicas must be between 1 and the replication factor"
                f" ({self.replication_factor}), not {self.min_insync_replicas}: with more, no write"
                " could ever be acknowledged"
            )

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    # Each topic's full name, as ``registry.content_approved``: the base name under ``prefix``.
    content_approved = _Topic("content.approved")
    content_control = _Topic("content.control")
    content_drafts = _Topic("content.drafts")
    ingest_idempotency = _Topic("ingest.idempotency")
    schedule_jobs = _Topic("schedule.jobs")
    schedule_channels = _Topic("schedule.channels")
    schedule_commands = _Topic("schedule.commands")
    publish_outcomes = _Topic("publish.outcomes")
    publish_dead = _Topic("publish.dead")
    engagement_observed = _Topic("engagement.observed")
    model_expectations = _Topic("model.expectations")
    analytics_deliveries = _Topic("analytics.deliveries")
    comments_observed = _Topic("comments.observed")
    inbox_items = _Topic("inbox.items")
    inbox_changes = _Topic("inbox.changes")
    inbox_replies = _Topic("inbox.replies")
    inbox_templates = _Topic("inbox.templates")
    inbox_spikes = _Topic("inbox.spikes")
    complaints_items = _Topic("complaints.items")
    complaints_changes = _Topic("complaints.changes")
    credentials = _Topic("credentials")
    console_connects = _Topic("console.connects")

    def publish_attempts(self, platform: str) -> str:
        # One ledger per platform, partitioned like publish.<platform>, so a worker restores only
        # the attempts of the partitions it owns.
        return self.name(f"publish.{platform}.attempts")

    def publish(self, platform: str) -> str:
        return self.name(f"publish.{platform}")

    def specs(self) -> list[TopicSpec]:
        return [self._durable(spec) for spec in self._declared()]

    def owned_by(self, service: str) -> frozenset[str]:
        """The topics ``service`` alone reads: it dead-letters their undecodable records."""
        return frozenset(spec.name for spec in self._declared() if spec.sole_reader == service)

    def _durable(self, spec: TopicSpec) -> TopicSpec:
        configs = {**spec.configs, "min.insync.replicas": str(self.min_insync_replicas)}
        return replace(spec, configs=configs, replication=self.replication_factor)

    def _inbox_declared(self, n: int) -> list[TopicSpec]:
        """The inbox's topics: citizens' comments, their entries, replies, answers, complaints."""
        return [
            TopicSpec(
                self.comments_observed, n, "post id", _audit(), "citizens' comments on published posts"
            ),
            TopicSpec(
                self.inbox_items,
                n,
                "comment key",
                _compacted(),
                "each comment's inbox entry",
                sole_reader="inbox",
            ),
            TopicSpec(self.inbox_changes, n, "comment key", _audit(), "inbox changes: who and why"),
            TopicSpec(
                self.inbox_replies,
                n,
                "comment key",
                _audit(),
                "the publishers' outcomes of reply and hide jobs (posted, retry, failed, unconfirmed)",
            ),
            TopicSpec(
                self.inbox_templates,
                1,
                "template name",
                _compacted(),
                "saved answers in en and id",
                sole_reader="inbox",
            ),
            TopicSpec(self.inbox_spikes, n, "channel and post", _audit(), "posts whose comments spike"),
            TopicSpec(
                self.complaints_items,
                n,
                "complaint id",
                _compacted(),
                "each LAPOR! complaint's record",
                sole_reader="inbox",
            ),
            TopicSpec(self.complaints_changes, n, "complaint id", _audit(), "complaint changes: who and why"),
        ]

    def _credentials_declared(self, n: int) -> list[TopicSpec]:
        """Sealed with the vault's keys (Fernet) before they are sent: never in clear on a topic."""
        return [
            TopicSpec(
                self.credentials,
                n,
                "account",
                _compacted(),
                "each account's current credential, encrypted; a partition's owner refreshes it",
            ),
            TopicSpec(
                self.console_connects,
                n,
                "digest of the connect's state",
                # A connect lives ten minutes: one abandoned is gone after a day, a taken one at
                # once (tombstone).
                {**_compacted(), "cleanup.policy": "compact,delete", "retention.ms": str(DAY_MS)},
                "connects started on any console: state and PKCE verifier, encrypted, used once",
            ),
        ]

    def _declared(self) -> list[TopicSpec]:
        n = self.partitions
        specs = [
            TopicSpec(self.content_approved, n, "content id", _audit(), "approved items with variants"),
            TopicSpec(
                self.content_control, n, "content id or *", _audit(), "withdraw/supersede/pause/resume"
            ),
            TopicSpec(
                self.content_drafts,
                n,
                "draft id",
                _audit(),
                "drafts and their approvals",
                sole_reader="ingest",
            ),
            TopicSpec(
                self.ingest_idempotency,
                n,
                "person and Idempotency-Key",
                # Ingest forgets a key after idempotency_ttl_s (24 h); a week keeps a margin.
                _working(),
                "ingest-internal: the first claim of each Idempotency-Key",
                sole_reader="ingest",
            ),
            TopicSpec(self.schedule_jobs, n, "job id", _compacted(), "the plan: slot, state, explanation"),
            TopicSpec(self.schedule_channels, n, "channel", _compacted(), "per-channel pause and model"),
            TopicSpec(
                self.schedule_commands,
                n,
                "channel",
                _working(),
                "scheduler-internal: per-channel commands (plan, fire, retry, control, engagement)",
            ),
            TopicSpec(self.publish_outcomes, n, "content id", _audit(), "attempt outcomes"),
            TopicSpec(self.publish_dead, n, "content id", _audit(), "dead letters with the last error"),
            TopicSpec(self.engagement_observed, n, "content id", _audit(), "engagement at +1h/+6h/+24h"),
            TopicSpec(
                self.model_expectations,
                n,
                "channel",
                _compacted(),
                "the slot model's expected engagement by local hour-of-week, per channel",
            ),
            # One partition: a handful of records, read whole by the one analytics worker.
            TopicSpec(
                self.analytics_deliveries,
                1,
                "delivery method",
                _compacted(),
                "the last weekly report delivered by each method (webhook, email)",
                sole_reader="analytics",
            ),
            *self._inbox_declared(n),
            *self._credentials_declared(n),
        ]
        return specs + self._platforms_declared(n)

    def _platforms_declared(self, n: int) -> list[TopicSpec]:
        """Each platform's due jobs, then each platform's attempt ledger."""
        due = [
            TopicSpec(
                self.publish(p),
                n,
                "job id",
                _working(),
                f"jobs due now on {p}",
            )
            for p in PLATFORMS
        ]
        return due + [
            TopicSpec(
                self.publish_attempts(p),
                n,
                "job id",
                _compacted(),
                f"{p} publisher's attempt ledger",
                sole_reader="publisher",
            )
            for p in PLATFORMS
        ]
