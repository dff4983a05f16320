"""Channel configuration: which accounts Warta posts to, where, and under which constraints.

A channel is one account on one platform (``mastodon-demo``, ``ig-pemprov``). Its file is YAML or
JSON (``WARTA_CHANNELS_FILE``); secrets are never in it, only the name of the secret to look up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.events import ControlAction, ControlIssued, Identifier, Instant
from shared.instance_limits import InstanceLimits
from shared.topics import PLATFORMS


class ChannelConfigError(ValueError):
    """The channels file is missing, unreadable or breaks its schema."""


class Blackout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    start: Instant
    end: Instant
    reason: str = "blackout"

    @model_validator(mode="after")
    def _ordered(self) -> Blackout:
        if self.end <= self.start:
            raise ValueError("blackout end must be after its start")
        return self


def blackout_at(blackouts: Iterable[Blackout], instant: datetime) -> Blackout | None:
    """The blackout ``instant`` lies in (each is [start, end)), if any: the publisher's last
    check before a post leaves, since a job handed over before a silence may be taken late."""
    return next((b for b in blackouts if b.start <= instant < b.end), None)


class RollingCap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    limit: int = Field(ge=1)
    window_minutes: int = Field(ge=1)


class Channel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    platform: str
    account: str = "default"
    timezone: str = "Asia/Jakarta"
    base_url: str | None = None
    secret: str | None = Field(default=None, description="name of the secret in the secrets store")
    options: dict[str, str] = Field(default_factory=dict, description="platform ids: page id, chat id…")
    min_gap_minutes: int = Field(default=60, ge=0)
    max_posts_per_day: int | None = Field(default=None, ge=1)
    caps: tuple[RollingCap, ...] = ()
    blackouts: tuple[Blackout, ...] = ()
    habitual_times: tuple[time, ...] = ()
    group: str | None = Field(default=None, description="channels of a group post a topic in rank order")
    rank: int = Field(default=0, description="lower rank posts a topic first within its group")
    # Four eyes on answers to citizens: a reply on this channel is a draft until an approver who
    # did not write it approves it (the governor's account, for instance).
    replies_need_approval: bool = False
    instance_limits: InstanceLimits | None = Field(
        default=None,
        description="a Mastodon instance's own limits, as its /api/v2/instance states them",
    )

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PLATFORMS:
            raise ValueError(f"unknown platform {value!r}; known: {', '.join(PLATFORMS)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _limits_of_an_instance(self) -> Channel:
        if self.instance_limits is not None and self.platform != "mastodon":
            raise ValueError(f"instance_limits describe a Mastodon instance; {self.id!r} is {self.platform}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)


class ChannelDirectory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    channels: tuple[Channel, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> ChannelDirectory:
        seen: set[str] = set()
        for ch in self.channels:
            if ch.id in seen:
                raise ValueError(f"channel {ch.id!r} is declared twice")
            seen.add(ch.id)
        return self

    def get(self, channel_id: str) -> Channel | None:
        return self._by_id.get(channel_id)

    @cached_property
    def _by_id(self) -> dict[str, Channel]:
        # Looked up for every target of every request: a dict, not a scan of the tuple.
        return {c.id: c for c in self.channels}

    def for_platform(self, platform: str) -> tuple[Channel, ...]:
        return tuple(c for c in self.channels if c.platform == platform)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.channels)

    def reached_by(self, named: Sequence[str]) -> tuple[str, ...]:
        """The channels a command naming ``named`` reaches (``ControlIssued.channels``): those it
        names, or every channel here when it names none (a pause or a resume of all). The
        scheduler fans a command out by this rule, and ingest's status view folds it by it."""
        return tuple(named) or self.ids

    def fold_pause(self, paused: dict[str, ControlIssued], command: ControlIssued) -> None:
        """A pause or a resume folded into ``paused`` (channel → the pause in force) on the
        channels it reaches; any other command leaves it as it is. Ingest's status view and the
        publishers' control state both keep the pauses by this rule."""
        if command.action is ControlAction.PAUSE:
            paused.update(dict.fromkeys(self.reached_by(command.channels), command))
        elif command.action is ControlAction.RESUME:
            for channel in self.reached_by(command.channels):
                paused.pop(channel, None)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted({c.platform for c in self.channels}))


def load_channels(path: str | Path) -> ChannelDirectory:
    try:
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ChannelConfigError(f"cannot read channels file {path}: {exc}") from exc
    try:
        return ChannelDirectory.model_validate(raw or {})
    except ValueError as exc:
        raise ChannelConfigError(f"channels file {path} is invalid: {exc}") from exc
