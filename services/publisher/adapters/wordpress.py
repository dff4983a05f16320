"""WordPress REST API: ``POST /wp-json/wp/v2/posts``, images through ``/wp/v2/media``.

Contract (developer.wordpress.org/rest-api/reference/posts and media; application passwords
since WordPress 5.6):

- ``Authorization: Basic base64(username:application-password)``. 401 ``incorrect_password`` /
  ``invalid_username``; 401/403 ``rest_cannot_create`` when the user lacks the capability.
- Media: the raw file as the body with ``Content-Type`` and
  ``Content-Disposition: attachment; filename="..."``; 201 with ``id`` and ``source_url``.
- Post: JSON ``title``, ``content``, ``status``, ``featured_media``; 201 with ``Location`` and
  the post (``id``, ``link``).
- Errors are ``{"code": "...", "message": "...", "data": {"status": N}}``. Core has no rate
  limit; hosts and security plugins may answer 429 with ``Retry-After``.
- Polls are not in core.

Credentials: the application password as the token with the user in ``extra["username"]``,
or the token as ``username:application-password``. Target options: ``status`` (default
``publish``), ``title`` (default: the text's first line).

Reconciliation: the post body carries an invisible HTML comment ``<!-- warta:<marker> -->``;
``find_by_marker`` searches for it (``GET /wp/v2/posts?search=<marker>``, any status, edit
context) and checks the raw content really holds the comment.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply, parse_int, parse_iso
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.common import HttpAdapter
from shared.events import Content, Media
from shared.json_values import as_id, as_list, as_object
from shared.platform_throttles import retry_after as retry_after_header

API = "/wp-json/wp/v2"
TITLE_LENGTH = 80
ANY_STATUS = "publish,future,draft,pending,private"
# A refusal of the account (its password, or a role demoted below publishing): a person must act.
_AUTH_CODES = (
    "incorrect_password",
    "invalid_username",
    "rest_cannot_create",
    "rest_cannot_publish",
    "rest_forbidden",
)
# 500s that are really refusals of the file: re-uploading it won't help.
_PERMANENT_500 = ("rest_upload_sideload_error",)


class WordPressAdapter(HttpAdapter):
    platform = "wordpress"

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        content = request.content
        check_content(self.platform, content)  # no polls in core
        if not (content.text or content.link or content.media):
            raise port.Permanent("wordpress: nothing to post", code="empty_content")
        uploaded = [await self._upload(target, m) for m in content.media]
        body: dict[str, Any] = {
            "title": target.options.get("title") or _title(content),
            "content": _html(content, uploaded, request.marker),
            "status": target.options.get("status", "publish"),
        }
        if uploaded:
            body["featured_media"] = uploaded[0][0]
        reply = await self.call(target, "POST", "/posts", creates_post=True, json=body)
        if not 200 <= reply.status < 300:  # any 2xx took the post: without its id, Ambiguous
            raise self.classify_error(target, reply)
        return _published(reply.json_object(), reply.headers.get("Location"))

    async def _upload(self, target: port.Target, media: Media) -> tuple[int, str, str | None]:
        fetched = await self._fetcher.fetch(media)
        headers = {
            "Content-Type": fetched.content_type,
            "Content-Disposition": f'attachment; filename="{fetched.filename}"',
        }
        # An unattached upload only sits in the media library: losing its reply is not ambiguous.
        reply = await self.call(
            target, "POST", "/media", creates_post=False, data=fetched.data, headers=headers
        )
        if reply.status != 201:
            raise self.classify_error(target, reply)
        body = reply.json_object()
        media_id = parse_int(str(body.get("id"))) if body.get("id") is not None else None
        if media_id is None:
            raise port.Temporary("wordpress: media upload answered without an id", code="no_id")
        return media_id, str(body.get("source_url") or ""), media.alt

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        params = {"search": request.marker, "status": ANY_STATUS, "context": "edit", "per_page": "10"}
        reply = await self.call(target, "GET", "/posts", params=params)
        if reply.status != 200:
            raise self.classify_error(target, reply)
        posts = reply.json()
        for post in as_list(posts):
            raw = as_object(as_object(post).get("content")).get("raw")
            if isinstance(raw, str) and _marker_comment(request.marker) in raw:
                return _published(post, None)
        # The search covers every status and reads the database itself: no lag to allow for.
        return port.Absent("wordpress: no post carries the job's marker")

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self.call(target, "GET", "/comments", params={"post": post_id, "per_page": "1"})
        if reply.status != 200:
            raise self.classify_error(target, reply)
        # Core has no views or likes; comments are counted in X-WP-Total.
        return port.Engagement(
            reactions=0, comments=parse_int(reply.headers.get("X-WP-Total")) or 0, shares=0
        )

    def _url(self, target: port.Target, path: str) -> str:
        return target.base_url.rstrip("/") + API + path

    def _headers(self, target: port.Target) -> dict[str, str]:
        return {"Authorization": _basic(target)}  # WordPress core reports no quota: no _observe

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        body = reply.json_object()
        code = str(body.get("code") or f"http_{reply.status}")
        message = f"wordpress: {str(body.get('message') or f'HTTP {reply.status}')[:1000]} ({code})"
        status = reply.status
        if status == 401 or code in _AUTH_CODES:
            return port.AuthExpired(message, code=code, http_status=status)
        if status == 429:
            wait = retry_after_header(reply.headers, self._clock())
            return port.RateLimited(message, code=code, http_status=status, retry_after=wait)
        if status >= 500 and code not in _PERMANENT_500:
            return port.Temporary(message, code=code, http_status=status)
        return port.Permanent(message, code=code, http_status=status)


def _basic(target: port.Target) -> str:
    creds = target.credentials
    username = creds.extra.get("username")
    pair = f"{username}:{creds.token}" if username else creds.token
    if ":" not in pair:
        # Raised per call: the channel is parked until someone fixes its secret.
        raise port.AuthExpired(
            "wordpress: the secret needs a username (extra or 'user:password')", code="no_username"
        )
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _marker_comment(marker: str) -> str:
    return f"<!-- warta:{marker} -->"


def _title(content: Content) -> str:
    lines = (content.text or content.link or "").strip().splitlines()
    first = lines[0].strip() if lines else ""
    if len(first) <= TITLE_LENGTH:
        return first
    return first[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"


def _html(content: Content, uploaded: list[tuple[int, str, str | None]], marker: str) -> str:
    parts = [f"<p>{html.escape(p.strip())}</p>" for p in (content.text or "").split("\n\n") if p.strip()]
    for _, url, alt in uploaded:
        parts.append(f'<figure><img src="{html.escape(url)}" alt="{html.escape(alt or "")}"/></figure>')
    if content.link and content.link not in (content.text or ""):
        link = html.escape(content.link)
        parts.append(f'<p><a href="{link}">{link}</a></p>')
    parts.append(_marker_comment(marker))  # invisible to readers; found by find_by_marker
    return "\n".join(parts)


def _published(post: dict[str, Any], location: str | None) -> port.Published:
    post_id = as_id(post.get("id"))
    if not post_id:
        raise port.Ambiguous("wordpress: created, but the reply has no id", code="no_id")
    link = post.get("link")
    return port.Published(
        post_id, link if isinstance(link, str) and link else location, parse_iso(post.get("date_gmt"))
    )
