"""Which vault account a channel's credential is stored under: its secret's name, else its id."""

from __future__ import annotations

from shared.channels import Channel


def account_of(channel: Channel) -> str:
    return channel.secret or channel.id
