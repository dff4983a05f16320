"""What replaying a consumer's dead letter does: write the record back where it was read (pure).

A letter a consumer wrote because its handler raised (``shared.dead_letters``) holds the
record's topic, partition, key and, when ``raw_complete``, its exact bytes. After the fix, the
replay appends those bytes to the same partition of the same topic, and every consumer of that
topic reads the record again. That is safe because each is idempotent to redelivery (the plan
recognises a repeated command, the publisher's attempt ledger a repeated job, the views an item
they hold): the consumer that failed handles it now, the others skip it.

Only command topics are replayed, and only records that decoded (bytes that are no event stay
no event; the producer must send them again). A record of a compacted topic (the plan, a ledger) is state:
written back, an old version would replace a newer one, so such a letter is refused; the view
that failed on it reads it again at its next start.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.codec import DecodeError
from shared.events import DeadLettered
from shared.messages import Said, said
from shared.topics import PLATFORMS, TopicRegistry

# The codec's error tree: bytes that are no event stay no event when written back.
_DECODE_ERRORS = frozenset([DecodeError.__name__, *(c.__name__ for c in DecodeError.__subclasses__())])


@dataclass(frozen=True)
class Reappend:
    topic: str
    partition: int | None
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class NotReplayable:
    said: Said  # why, from the catalog: rule ``not_replayable``

    @property
    def reason(self) -> str:
        return str(self.said)


def replayable_topics(topics: TopicRegistry) -> frozenset[str]:
    """The topics whose records are commands a consumer acts on, not state."""
    return frozenset(
        {
            topics.content_approved,
            topics.content_control,
            topics.publish_outcomes,
            topics.engagement_observed,
            topics.schedule_commands,
            *(topics.publish(p) for p in PLATFORMS),
        }
    )


def reappend(letter: DeadLettered, topics: TopicRegistry) -> Reappend | NotReplayable:
    """The write that replays ``letter``, a consumer's letter (``letter.consumer`` is set)."""
    if letter.source_topic not in replayable_topics(topics):
        return NotReplayable(said("not_replayable.state_topic", topic=letter.source_topic))
    if letter.error_type in _DECODE_ERRORS:
        return NotReplayable(
            said("not_replayable.undecodable", id=letter.event_id, topic=letter.source_topic)
        )
    if letter.raw is None or not letter.raw_complete:
        return NotReplayable(said("not_replayable.no_bytes", id=letter.event_id))
    return Reappend(
        topic=letter.source_topic,
        partition=letter.source_partition,
        key=letter.source_key.encode() if letter.source_key is not None else None,
        value=letter.raw.encode(),
    )
