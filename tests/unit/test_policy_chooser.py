"""The plan's port to the learning policy: engagement teaches each channel, and an item's
reactions on its other channels tell each channel how good the item was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.scheduler.policy.quality import MIN_POSTS
from services.scheduler.policy_chooser import PolicyChooser
from shared.channels import Channel
from shared.events import EngagementObserved

MONDAY = datetime(2027, 1, 4, 3, 0, tzinfo=UTC)  # 11:00 WITA
IG = Channel(id="ig-pemprov", platform="instagram", timezone="Asia/Makassar")
FB = Channel(id="fb-pemprov", platform="facebook", timezone="Asia/Makassar")


def seen(channel: Channel, item: str, at: datetime, reactions: int) -> EngagementObserved:
    return EngagementObserved(
        event_id=f"g-{item}-{channel.id}",
        occurred_at=at + timedelta(hours=24),
        job_id=f"{item}:{channel.id}",
        content_id=item,
        channel=channel.id,
        platform=channel.platform,
        published_at=at,
        horizon_minutes=1440,
        reactions=reactions,
        comments=0,
        shares=0,
    )


def quality_of(chooser: PolicyChooser, channel: Channel, job_id: str) -> float | None:
    posts = chooser.model_state(channel.id)["posts"]
    assert isinstance(posts, list)
    quality = next(p["quality"] for p in posts if p["key"] == job_id)
    assert quality is None or isinstance(quality, float)
    return quality


def test_an_items_reactions_elsewhere_set_its_quality_on_each_channel() -> None:
    chooser = PolicyChooser()
    for day in range(MIN_POSTS + 2):
        at = MONDAY + timedelta(days=day)
        for channel in (IG, FB):
            chooser.observe(channel, seen(channel, f"i{day}", at, 400), None)
    at = MONDAY + timedelta(days=MIN_POSTS + 2)
    chooser.observe(IG, seen(IG, "flood", at, 1600), None)  # an item four times as strong
    chooser.observe(FB, seen(FB, "flood", at, 1600), None)
    quality = quality_of(chooser, FB, "flood:fb-pemprov")
    assert quality is not None
    assert quality > 2.0  # FB's post of it is not taken for a great hour on FB
    # while the other channel's model was young, its counts judged no item
    assert quality_of(chooser, FB, "i3:fb-pemprov") is None


def test_a_reading_of_a_post_published_after_it_teaches_nothing() -> None:
    """A clock years ahead would make every real post look old to the model, for good."""
    chooser = PolicyChooser()
    chooser.observe(IG, seen(IG, "real", MONDAY, 300), None)
    future = seen(IG, "skewed", MONDAY, 5).model_copy(
        update={"published_at": datetime(2199, 12, 31, tzinfo=UTC)}
    )
    chooser.observe(IG, future, None)
    posts = chooser.model_state(IG.id)["posts"]
    assert isinstance(posts, list)
    assert [p["key"] for p in posts] == ["real:ig-pemprov"]
