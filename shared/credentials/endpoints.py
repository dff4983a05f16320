"""Where an account's token endpoint is, when its record does not say (an imported file)."""

from __future__ import annotations

from shared.capabilities import capabilities_for
from shared.channels import Channel

# The authorization servers of the real platforms; a channel whose ``base_url`` points elsewhere
# (the sandbox) finds the token endpoint under it instead.
AUTH_BASE = {
    "x": "https://api.x.com",
    "youtube": "https://oauth2.googleapis.com",
    "tiktok": "https://open.tiktokapis.com",
    "linkedin": "https://www.linkedin.com",
    # Mastodon: each instance is its own authorization server, the channel's base_url.
}


def token_url_for(channel: Channel) -> str:
    rules = capabilities_for(channel.platform).tokens
    if rules is None:
        return ""
    base = channel.base_url or AUTH_BASE.get(channel.platform, "")
    return base.rstrip("/") + rules.token_path if base else ""
