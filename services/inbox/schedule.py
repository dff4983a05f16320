"""When to poll each watched post, within each platform's read budget (pure; ``now`` passed in).

A post is polled often while it is young (citizens answer in the first hours) and less as it
ages: every ``interval`` for its first 2 hours, every 5 intervals up to a day, every 30 up to
``watch_for``; then it is no longer watched. Posts on Meta platforms, which push comments by
webhook, are polled 10 times less often (the poll only catches lost deliveries).

Budgets: each platform's read allowance is shared with the publisher's own calls (engagement,
reconciliation), so the inbox takes only a share of it, in ``READ_BUDGETS``. The allowance is
counted per what the platform limits, ``allowance_of`` (its one rule): the token (Mastodon, X,
LinkedIn's member, Telegram's bot), the Page or account a Meta quota is kept for, the Google Cloud
project for YouTube, the host for Bluesky's per-IP limit. Channels on one key share one
allowance, as they share the platform's limit (two channels on one token each given the whole
share would together overrun it, and the platform then throttles all of them); channels on other
keys never touch it. Within an allowance posts take turns oldest due first, so no channel starves
another. A poll that would pass the budget waits; a platform that throttles us
(``ReadThrottled``) is left alone until its ``retry_after``, every channel of that key with it.
A call is checked against the budget and counted in one step (``take_call`` never awaits), so
channels polled at once never overspend a budget; a post picked but not read (its channel began
resting first) is ``put_back`` with its call given back. The schedule learns each channel's key
from ``know`` (the collector tells it the channels it reads).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.inbox.watched import WatchedPost
from shared.channels import Channel
from shared.credentials.accounts import account_of


@dataclass(frozen=True)
class Budget:
    limit: int
    period: timedelta
    why: str


READ_BUDGETS: dict[str, Budget] = {
    # rack_attack: 300 requests / 5 min per token; the publisher keeps two thirds.
    "mastodon": Budget(100, timedelta(minutes=5), "a third of Mastodon's 300 requests / 5 min per token"),
    # AppView: 3,000 requests / 5 min per IP; a tenth leaves the publisher and other accounts room.
    "bluesky": Budget(300, timedelta(minutes=5), "a tenth of Bluesky's 3,000 requests / 5 min"),
    # 10,000 units a day for the project; commentThreads.list costs 1, an upload 1,600.
    "youtube": Budget(3000, timedelta(days=1), "3,000 of YouTube's 10,000 daily units"),
    # Business Use Case quota: 4,800 x engaged users / 24 h per Page or IG account.
    "facebook": Budget(200, timedelta(hours=1), "200 calls an hour of the Page's BUC quota"),
    "instagram": Budget(200, timedelta(hours=1), "200 calls an hour of the account's BUC quota"),
    # Daily limits per member and per application, counted by UTC day; a 429 says nothing more
    # (no Retry-After), so the inbox stays well inside them and leaves the publisher the rest.
    "linkedin": Budget(500, timedelta(days=1), "500 calls a day of LinkedIn's per-member daily limit"),
}

WEBHOOK_PLATFORMS = frozenset({"facebook", "instagram"})

# Meta's Business Use Case quotas are kept per Page, Instagram account or Threads user, whichever
# token reads it (platforms.md §1, §2, §12): the option naming that owner, as the publisher reads it.
_QUOTA_OWNER = {"facebook": "page_id", "instagram": "ig_user_id", "threads": "threads_user_id"}


def allowance_of(channel: Channel) -> str:
    """The key of the read allowance ``channel`` draws on: what its platform limits calls by."""
    if channel.platform == "youtube":
        # 10,000 units a day per Google Cloud project, whichever channel spends them. A deployment
        # registers one OAuth client per platform (its apps file), so its YouTube channels are one
        # project's and share one allowance; the channels file names no project to tell apart.
        return "youtube"
    if channel.platform == "bluesky":
        # AppView's 3,000 requests / 5 min are per IP: every channel this host reads there.
        return f"bluesky@{(channel.base_url or '').rstrip('/')}"
    owner = _QUOTA_OWNER.get(channel.platform)
    if owner is not None:
        return f"{channel.platform}:{channel.options.get(owner) or channel.account}"
    # Everywhere else the token is limited (Mastodon's rack_attack, X per user token, LinkedIn per
    # member, Telegram per bot): the vault account the channel's token is stored under.
    return f"{channel.platform}/{account_of(channel)}"


def poll_gap(age: timedelta, interval: timedelta, platform: str) -> timedelta:
    factor = 1 if age < timedelta(hours=2) else 5 if age < timedelta(days=1) else 30
    if platform in WEBHOOK_PLATFORMS:
        factor *= 10
    return interval * factor


@dataclass
class _Entry:
    post: WatchedPost
    due: datetime


@dataclass
class PollSchedule:
    interval: timedelta
    watch_for: timedelta = timedelta(days=7)
    budgets: dict[str, Budget] = field(default_factory=lambda: dict(READ_BUDGETS))
    _entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    _allowances: dict[str, str] = field(default_factory=dict)  # channel → ``allowance_of`` it
    _calls: dict[str, deque[datetime]] = field(default_factory=dict)  # allowance → calls taken
    _resting: dict[str, datetime] = field(default_factory=dict)  # allowance → throttled until

    def know(self, channels: Iterable[Channel]) -> None:
        """Which allowance each of ``channels`` draws on. A channel not known counts alone."""
        self._allowances.update((c.id, allowance_of(c)) for c in channels)

    def _allowance(self, channel: str) -> str:
        return self._allowances.get(channel) or f"channel {channel}"  # no platform is named "channel"

    def watch(self, post: WatchedPost, now: datetime) -> None:
        """Start watching ``post`` (idempotent); the first poll is due now."""
        if now - post.published_at >= self.watch_for:
            return
        self._entries.setdefault((post.channel, post.post_id), _Entry(post, now))

    @property
    def watched(self) -> int:
        return len(self._entries)

    def watching(self, channel: str, post_id: str) -> bool:
        return (channel, post_id) in self._entries

    def watched_per_channel(self) -> Counter[str]:
        return Counter(channel for channel, _ in self._entries)

    def due(self, now: datetime, limit: int = 100, busy: Collection[str] = ()) -> list[WatchedPost]:
        """Posts to poll now, oldest due first, each one's budget call taken; none of a channel
        in ``busy`` (still polling: its due posts wait for its next pass)."""
        for key in [k for k, e in self._entries.items() if now - e.post.published_at >= self.watch_for]:
            del self._entries[key]
        ready = sorted(
            (e for e in self._entries.values() if e.due <= now and e.post.channel not in busy),
            key=lambda e: e.due,
        )
        chosen: list[WatchedPost] = []
        for entry in ready:
            if len(chosen) >= limit:
                break
            if self.take_call(entry.post.channel, entry.post.platform, now):
                chosen.append(entry.post)
                # Not due again until done() or throttled() says when: one poll at a time per post.
                entry.due = now + self.watch_for
        return chosen

    def take_call(self, channel: str, platform: str, now: datetime) -> bool:
        """Count one read call on ``channel``'s allowance if its budget and any throttle allow it now."""
        if self.resting(channel, now):
            return False
        budget = self.budgets.get(platform)
        if budget is None:
            return True
        calls = self._calls.setdefault(self._allowance(channel), deque())
        while calls and calls[0] <= now - budget.period:
            calls.popleft()
        if len(calls) >= budget.limit:
            return False
        calls.append(now)
        return True

    def resting(self, channel: str, now: datetime) -> bool:
        """Whether the platform told ``channel``, or another channel of its allowance, to wait and
        the wait has not ended."""
        return self._resting.get(self._allowance(channel), now) > now

    def put_back(self, post: WatchedPost, taken_at: datetime) -> None:
        """``post``, picked by ``due(taken_at)``, was not read: due again (once its channel's rest
        ends), and the budget call taken for it given back, as no call was made."""
        entry = self._entries.get((post.channel, post.post_id))
        if entry is not None:
            entry.due = taken_at
        calls = self._calls.get(self._allowance(post.channel))
        if calls and taken_at in calls:
            calls.remove(taken_at)

    def done(self, post: WatchedPost, now: datetime) -> None:
        entry = self._entries.get((post.channel, post.post_id))
        if entry is not None:
            entry.due = now + poll_gap(now - post.published_at, self.interval, post.platform)

    def throttled(self, post: WatchedPost, now: datetime, retry_after: float) -> None:
        """The platform said to wait: every post of the channel's allowance waits (the platform
        limits them together), this one retries then."""
        until = now + timedelta(seconds=retry_after)
        key = self._allowance(post.channel)
        self._resting[key] = max(until, self._resting.get(key, until))
        entry = self._entries.get((post.channel, post.post_id))
        if entry is not None:
            entry.due = until

    def refused(self, post: WatchedPost) -> None:
        """The platform refused the read for good (the post deleted, the token revoked)."""
        self._entries.pop((post.channel, post.post_id), None)
