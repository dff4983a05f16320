"""How each platform is connected, and how long what Warta stores lives: the capability table's
``tokens`` and ``credential`` columns (joined in ``shared.capabilities``). A platform is in one
of the two tables.

``TOKEN_RULES``: the platforms whose user access token is refreshed (OAuth 2.0), with the paths of
its flow and the lifetimes the platform documents.

``CREDENTIAL_RULES``: the rest. Each row cites the platform's own documentation (``source``).
``lifetime_s`` None: the stored credential lives until it is revoked (a bot token, a Page token
derived from a long-lived user token, a system user's token, an application password). ``needs``
is what publishing requires of it; ``warta channels check`` reports what the credential has
against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_HOUR = 3600
_DAY = 24 * _HOUR


@dataclass(frozen=True)
class TokenRules:
    """How a platform's user access tokens live, as its own documentation states (``source``).

    The refresher never relies on ``access_s``: it schedules from each grant's ``expires_in``.
    The lifetimes here are what the sandbox issues by default and what a check reports as
    expected. ``rotates``: a refresh answers with a new refresh token and the one sent stops
    working, so the new one must be stored before anything else and only one worker may refresh.
    """

    access_s: int | None  # None: the access token does not expire (Mastodon)
    refresh_s: int | None  # None: no fixed lifetime (revocation or disuse ends it)
    rotates: bool
    pkce: bool
    token_path: str  # relative to the platform's auth base
    authorize_path: str
    source: str
    # What publishing needs of the grant; ``warta channels check`` names any the user withheld.
    publish_scopes: tuple[str, ...] = ()
    notes: str = ""
    # Registered per server before the flow (Mastodon: ``POST /api/v1/apps`` on each instance),
    # instead of once in a developer portal.
    registers_app: bool = False


@dataclass(frozen=True, kw_only=True)
class CredentialRules:
    how: str  # "meta-login" | "threads-login" | "bot-token" | "app-password" | "system-user-token" | "generated-secret"
    lifetime_s: int | None = None  # the common case: it lives until it is revoked
    source: str  # keyword-only rows let a field without a default follow one with it
    needs: tuple[str, ...] = ()
    notes: str = ""


TOKEN_RULES: Mapping[str, TokenRules] = MappingProxyType(
    {
        # "the access token … will only stay valid for two hours unless you've used the
        # offline.access scope" (which issues the refresh token). The page does not state
        # rotation; X answers each refresh with a new refresh token, so it is handled as rotating.
        "x": TokenRules(
            access_s=2 * _HOUR,
            refresh_s=None,
            rotates=True,
            pkce=True,
            token_path="/2/oauth2/token",
            authorize_path="/i/oauth2/authorize",
            publish_scopes=("tweet.write", "users.read", "offline.access"),
            source="https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code",
        ),
        # Each instance is its own authorization server: the app registers there first; its
        # tokens carry no expiry (revoked by the user or an admin). PKCE S256 since 4.3.
        "mastodon": TokenRules(
            access_s=None,
            refresh_s=None,
            rotates=False,
            pkce=True,
            token_path="/oauth/token",
            authorize_path="/oauth/authorize",
            publish_scopes=("write:statuses", "write:media"),
            source="https://docs.joinmastodon.org/spec/oauth/",
            notes="app registration: https://docs.joinmastodon.org/methods/apps/#create",
            registers_app=True,
        ),
        # Access tokens answer ``expires_in: 3599``; the refresh token is not rotated and ends on
        # revocation, after six months unused, or after 7 days for an app left in "Testing".
        "youtube": TokenRules(
            access_s=_HOUR,
            refresh_s=None,
            rotates=False,
            pkce=True,
            token_path="/token",
            authorize_path="/o/oauth2/v2/auth",
            publish_scopes=("https://www.googleapis.com/auth/youtube.upload",),
            source="https://developers.google.com/identity/protocols/oauth2",
            notes="refresh token: 6 months unused, 7 days for an unverified 'Testing' app",
        ),
        # "Access token 2 hours … Refresh token 180 days"; "Refresh tokens are rotated … The
        # previous refresh token stops working once a new one is issued." (Older pages said
        # 24 h and 365 days: the lifetimes come from each grant's expires_in, not from here.)
        "tiktok": TokenRules(
            access_s=2 * _HOUR,
            refresh_s=180 * _DAY,
            rotates=True,
            pkce=True,
            token_path="/v2/oauth/token/",
            authorize_path="/v2/auth/authorize/",
            publish_scopes=("video.publish",),
            source="https://developers.tiktok.com/doc/oauth-user-access-token-management",
            notes="rotation: https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token",
        ),
        # 3-legged OAuth (no PKCE for a web app). Access 60 days; programmatic refresh tokens
        # (approved partners) live 365 days from the first consent: a refresh answers the same
        # refresh token with its remaining ``refresh_token_expires_in``, never a longer one.
        "linkedin": TokenRules(
            access_s=60 * _DAY,
            refresh_s=365 * _DAY,
            rotates=False,
            pkce=False,
            token_path="/oauth/v2/accessToken",
            authorize_path="/oauth/v2/authorization",
            publish_scopes=("w_member_social",),
            source="https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow",
            notes="refresh: https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens",
        ),
    }
)

_META_LOGIN = "https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived"

CREDENTIAL_RULES: Mapping[str, CredentialRules] = MappingProxyType(
    {
        # Facebook Login's code gives a short-lived user token (hours); fb_exchange_token turns it
        # into a long-lived one (about 60 days); a Page token asked for with a long-lived user
        # token has no expiry. Warta stores only the Page token.
        "facebook": CredentialRules(
            how="meta-login",
            source=_META_LOGIN,
            needs=("pages_manage_posts", "pages_read_engagement", "pages_show_list"),
            notes="user token: short-lived → about 60 days (expires_in 5183944); Page token: no expiry",
        ),
        # Instagram publishing uses the Page's token and the Page's instagram_business_account.
        "instagram": CredentialRules(
            how="meta-login",
            source=_META_LOGIN,
            needs=("instagram_basic", "instagram_content_publish", "pages_show_list"),
            notes="the account id: GET /{page-id}?fields=instagram_business_account",
        ),
        # Threads: its own OAuth at threads.net; 1-hour token → th_exchange_token: 60 days,
        # refreshed with th_refresh_token once at least 24 hours old (60 days again).
        "threads": CredentialRules(
            how="threads-login",
            lifetime_s=60 * _DAY,
            source="https://developers.facebook.com/docs/threads/get-started/long-lived-tokens",
            needs=("threads_basic", "threads_content_publish"),
            notes="authorize: https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions",
        ),
        # A bot token lives until BotFather revokes it; the bot must be an administrator of the
        # channel allowed to post (getChatMember: status administrator, can_post_messages).
        "telegram": CredentialRules(
            how="bot-token",
            source="https://core.telegram.org/bots/api#authorizing-your-bot",
            needs=("administrator", "can_post_messages"),
            notes="admin check: https://core.telegram.org/bots/api#getchatmember",
        ),
        # An app password stays valid until the user revokes it; the sessions it opens
        # (createSession) are short and renewed by the adapter itself.
        "bluesky": CredentialRules(
            how="app-password",
            source="https://docs.bsky.app/docs/api/com-atproto-server-create-session",
            notes="app passwords: https://blueskyweb.xyz/blog/8-28-2023-app-passwords",
        ),
        # Application passwords do not expire; the user's capabilities decide what it may do.
        "wordpress": CredentialRules(
            how="app-password",
            source="https://developer.wordpress.org/rest-api/reference/application-passwords/",
            needs=("publish_posts", "upload_files"),
            notes="checked with GET /wp/v2/users/me?context=edit (capabilities)",
        ),
        # A system user's token (Business Manager) does not expire unless revoked; the
        # dashboard's temporary token lives about 24 hours and is not for production.
        "whatsapp": CredentialRules(
            how="system-user-token",
            source="https://developers.facebook.com/docs/whatsapp/business-management-api/get-started#system-user-access-tokens",
            needs=("whatsapp_business_messaging",),
            notes="checked with GET /{phone-number-id}",
        ),
        # Warta's own signing secret: generated at connect, shown once, lives until replaced.
        "webhook": CredentialRules(how="generated-secret", source="docs/webhooks.md"),
    }
)
