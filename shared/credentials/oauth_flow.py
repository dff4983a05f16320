"""The OAuth 2.0 authorization code flow as Warta runs it for X, YouTube, TikTok, LinkedIn and
Mastodon (RFC 6749 §4.1, PKCE RFC 7636): the consent page's URL, PKCE's challenge, and the grant
stored in the vault. The CLI's loopback flow and the console's Connect button both use it.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from urllib.parse import urlencode

from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.credentials.accounts import account_of
from shared.credentials.endpoints import token_url_for
from shared.credentials.record import CredentialRecord, expires_at
from shared.credentials.token_client import AppCredentials, Grant
from shared.credentials.vault import CredentialVault


def code_challenge(verifier: str) -> str:
    """PKCE's S256 challenge (RFC 7636 §4.2): BASE64URL(SHA256(verifier)), no padding.

    Written here, not borrowed from the sandbox's authorization server: the fakes share no code
    with the client they judge, so a wrong challenge cannot agree with itself on both sides.
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


# Where each platform's consent page is, when the channel's base_url does not say (the sandbox
# serves it under the channel's base_url).
AUTHORIZE_BASE = {
    "x": "https://x.com",
    "youtube": "https://accounts.google.com",
    "tiktok": "https://www.tiktok.com",
    "linkedin": "https://www.linkedin.com",
}
SCOPES = {
    "x": "tweet.read tweet.write users.read media.write offline.access",
    "youtube": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly",
    "tiktok": "user.info.basic,video.publish,video.upload",
    "linkedin": "openid profile w_member_social",
    "mastodon": "read write:statuses write:media",
}


def authorize_url(channel: Channel, client_id: str, redirect_uri: str, state: str, challenge: str) -> str:
    rules = capabilities_for(channel.platform).tokens
    assert rules is not None
    base = (channel.base_url or AUTHORIZE_BASE[channel.platform]).rstrip("/")
    params = {
        "response_type": "code",
        "client_key" if channel.platform == "tiktok" else "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES[channel.platform],
        "state": state,
    }
    if rules.pkce:  # LinkedIn's web flow has none: it authenticates the app by its secret
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    if channel.platform == "tiktok":
        params["client_id"] = client_id  # the sandbox and the generic flow read client_id
    if channel.platform == "youtube":
        params |= {"access_type": "offline", "prompt": "consent"}  # Google: issue a refresh token
    if channel.base_url:
        # An authorization server of our own choosing (the sandbox): say which demo account
        # consents. OpenID's ``login_hint``; the real consent pages are left without it.
        params["login_hint"] = account_of(channel)
    return f"{base}{rules.authorize_path}?{urlencode(params)}"


def store_grant(
    vault: CredentialVault, channel: Channel, app_credentials: AppCredentials, grant: Grant, now: datetime
) -> CredentialRecord:
    """The account's new credential, in the vault: the app's client id (and secret) kept with it."""
    account = account_of(channel)
    old = vault.fresh(account)
    extra = {"client_id": app_credentials.client_id}
    if app_credentials.client_secret:
        extra["client_secret"] = app_credentials.client_secret
    record = CredentialRecord(
        account=account,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        expires_at=expires_at(now, grant.expires_in),
        refresh_expires_at=expires_at(now, grant.refresh_expires_in),
        issued_at=now,
        scope=grant.scope,
        platform=channel.platform,
        token_url=token_url_for(channel),
        extra=extra,
    ).succeeding(old)
    vault.put(record)
    return record
