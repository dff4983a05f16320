"""How each platform without a refreshable user token is connected, and how long what Warta
stores lives: the capability table's ``credential`` column (``shared.capabilities``).

Each row cites the platform's own documentation (``source``). ``lifetime_s`` None: the stored
credential lives until it is revoked (a bot token, a Page token derived from a long-lived user
token, a system user's token, an application password). ``needs`` is what publishing requires
of it; ``warta channels check`` reports what the credential has against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_DAY = 24 * 3600


@dataclass(frozen=True, kw_only=True)
class CredentialRules:
    how: str  # "meta-login" | "threads-login" | "bot-token" | "app-password" | "system-user-token" | "generated-secret"
    lifetime_s: int | None = None  # the common case: it lives until it is revoked
    source: str  # keyword-only rows let a field without a default follow one with it
    needs: tuple[str, ...] = ()
    notes: str = ""


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
