"""LinkedIn Posts API: ``POST /rest/posts``, images through ``/rest/images?action=initializeUpload``.

Contract (platforms.md §9; learn.microsoft.com linkedin/marketing/community-management/shares/
posts-api, images-api, poll-post-api; shared/api-guide/concepts/error-handling, rate-limits):

- Every call carries ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` and
  ``X-Restli-Protocol-Version: 2.0.0``. A sunset version is refused (426 observed).
- Success is **201 with an empty body**; the post's URN is the ``x-restli-id`` header.
- Images: ``initializeUpload`` with the owner answers ``uploadUrl`` and an image URN; ``PUT`` the
  bytes there; then the post references the URN (``content.media``, or ``content.multiImage``).
  An image no post references is harmless: uploads are never ambiguous.
- Links: ``content.article`` (the API doesn't scrape a preview). Polls: ``content.poll`` with a
  question, 2-4 options and a duration of ONE_DAY, THREE_DAYS, SEVEN_DAYS or FOURTEEN_DAYS.
- ``commentary`` is "little text": ``| { } @ [ ] ( ) < > # \\ * _ ~`` are backslash-escaped, or
  the post may be cut at the first one (composio#2710).
- Errors ``{"message","serviceErrorCode","status"}``: 401 token expired or revoked; 403
  ``ACCESS_DENIED`` (missing scope or role); **422 ``DUPLICATE_POST``**; 429 when a daily quota
  is used up. The quotas reset at **00:00 UTC** and the 429 carries no header, so ``retry_after``
  is the time to the next UTC midnight.

Target options: ``author`` (``urn:li:organization:…`` or ``urn:li:person:…``; defaults to the
account when that is a URN, else ``urn:li:organization:<account>``). The ``LinkedIn-Version``
is the capability table's ``api_version``: the request and reply shapes here are that version's,
so a channel cannot pick another.

Poll results: ``GET /rest/posts/{urn}`` read by ``poll_tally.linkedin_tally`` (the options'
``voteCount``, shown to the poll's author).

Reconciliation: ``find_by_marker`` lists the author's latest posts (``q=author``) and looks for
this request's commentary, no older than the first attempt.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.checks import check_content, check_media
from services.publisher.adapters.common import HttpAdapter
from services.publisher.adapters.linkedin_author import author_urn
from services.publisher.adapters.lookup import Listed, verdict
from services.publisher.adapters.poll_tally import linkedin_tally
from services.publisher.adapters.resets import next_midnight
from shared.capabilities import PlatformCapabilities, capabilities_for
from shared.events import Content, Media, Poll
from shared.json_values import as_int, as_object, epoch_time

LOOKUP_LIMIT = 100  # the finder's largest page
_RESERVED = re.compile(r"([|{}@\[\]()<>#\\*_~])")
_ESCAPED = re.compile(r"\\([|{}@\[\]()<>#\\*_~])")
_DURATIONS = {
    24 * 60: "ONE_DAY",
    3 * 24 * 60: "THREE_DAYS",
    7 * 24 * 60: "SEVEN_DAYS",
    14 * 24 * 60: "FOURTEEN_DAYS",
}


def escape_little_text(text: str) -> str:
    return _RESERVED.sub(r"\\\1", text)


def unescape_little_text(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


class LinkedInAdapter(HttpAdapter):
    platform = "linkedin"

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        content = request.content
        caps = check_content(self.platform, content)
        author = author_urn(target)
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape_little_text(content.text or ""),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content.poll is not None:
            body["content"] = {"poll": _poll(content.poll)}
        elif content.media:
            images = [await self._upload(target, caps, author, m) for m in content.media]
            if len(images) == 1:
                body["content"] = {"media": images[0]}
            else:
                body["content"] = {"multiImage": {"images": images}}
        elif content.link:
            body["content"] = {"article": {"source": content.link, "title": _title(content)}}
        reply = await self.call(target, "POST", "/rest/posts", creates_post=True, json=body)
        if not 200 <= reply.status < 300:  # any 2xx took the post: without its URN, Ambiguous
            raise self.classify_error(target, reply)
        urn = reply.headers.get("x-restli-id", "")
        if not urn:
            raise port.Ambiguous("linkedin: created, but the reply has no x-restli-id", code="no_id")
        return port.Published(urn, _post_url(urn))

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        params = {
            "q": "author",
            "author": author_urn(target),
            "count": str(LOOKUP_LIMIT),
            "sortBy": "LAST_MODIFIED",
        }
        reply = await self.call(target, "GET", "/rest/posts", params=params)
        if reply.status != 200:
            raise self.classify_error(target, reply)
        elements = reply.json_object().get("elements")
        ours = request.content.text or ""
        listed: list[Listed] = []
        for post in elements if isinstance(elements, list) else []:
            if not isinstance(post, dict):
                continue
            created = _millis(post.get("createdAt"))
            article = as_object(as_object(post.get("content")).get("article"))
            links = [str(article["source"])] if article.get("source") else []
            commentary = unescape_little_text(str(post.get("commentary") or ""))
            judged = verdict(ours, commentary, our_link=request.content.link, their_links=links)
            urn = str(post.get("id") or "")
            found = port.Published(urn, _post_url(urn), created) if urn else None
            # The finder sorts by last change: that, not creation, bounds what the page covers.
            sorted_at = _millis(post.get("lastModifiedAt")) or created
            listed.append(Listed(created, judged, found, sorted_at))
        return self.judge(listed, request, page_full=len(listed) >= LOOKUP_LIMIT)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self.call(target, "GET", f"/rest/socialActions/{quote(post_id, safe='')}")
        if reply.status != 200:
            raise self.classify_error(target, reply)
        body = reply.json_object()
        likes, comments = as_object(body.get("likesSummary")), as_object(body.get("commentsSummary"))
        return port.Engagement(
            reactions=as_int(likes.get("totalLikes")) or 0,
            comments=as_int(comments.get("aggregatedTotalComments")) or 0,
            shares=0,  # share counts need organizationalEntityShareStatistics (organisation posts only)
        )

    async def poll_results(self, target: port.Target, post_id: str) -> port.PollTally:
        reply = await self.call(target, "GET", f"/rest/posts/{quote(post_id, safe='')}")
        if reply.status != 200:
            raise self.classify_error(target, reply)
        return linkedin_tally(reply.json_object(), post_id, self._clock())

    async def _upload(
        self, target: port.Target, caps: PlatformCapabilities, owner: str, media: Media
    ) -> dict[str, str]:
        fetched = await self._fetcher.fetch(media)
        check_media(caps, media, len(fetched.data))
        init = {"initializeUploadRequest": {"owner": owner}}
        # An initialised upload is an invisible asset until a post names it.
        reply = await self.call(
            target,
            "POST",
            "/rest/images",
            creates_post=False,
            params={"action": "initializeUpload"},
            json=init,
        )
        if reply.status != 200:
            raise self.classify_error(target, reply)
        value = reply.json_object().get("value")
        upload_url = value.get("uploadUrl") if isinstance(value, dict) else None
        image = value.get("image") if isinstance(value, dict) else None
        if not isinstance(upload_url, str) or not isinstance(image, str):
            raise port.Temporary(
                "linkedin: initializeUpload answered without uploadUrl or image", code="malformed_reply"
            )
        # The upload URL is LinkedIn's own storage: the bearer token, none of the Rest.li headers.
        put = await self.call(
            target,
            "PUT",
            url=upload_url,
            creates_post=False,
            authorise=False,
            headers={
                "Authorization": f"Bearer {target.credentials.token}",
                "Content-Type": fetched.content_type,
            },
            data=fetched.data,
        )
        if put.status not in (200, 201):
            raise self.classify_error(target, put)
        item = {"id": image}
        if media.alt:
            item["altText"] = media.alt
        return item

    def _headers(self, target: port.Target) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {target.credentials.token}",
            "LinkedIn-Version": capabilities_for(self.platform).api_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        body = reply.json_object()
        status = reply.status
        inputs = (
            (body.get("errorDetails") or {}).get("inputErrors")
            if isinstance(body.get("errorDetails"), dict)
            else None
        )
        codes = [str(e.get("code")) for e in inputs or [] if isinstance(e, dict)]
        code = (
            codes[0] if codes else str(body.get("code") or body.get("serviceErrorCode") or f"http_{status}")
        )
        message = f"linkedin: {str(body.get('message') or f'HTTP {status}')[:1000]}"
        if "DUPLICATE_POST" in codes:
            return port.Duplicate(message, code="DUPLICATE_POST", http_status=status)
        if status in (401, 403):
            return port.AuthExpired(message, code=code, http_status=status)
        if status == 429:
            now = self._clock()
            reset = next_midnight(now)
            self._quota.record(target, port.RateLimitInfo(remaining=0, reset_at=reset))
            return port.RateLimited(
                f"{message} (daily quota; resets 00:00 UTC)",
                code="daily_quota",
                http_status=status,
                retry_after=(reset - now).total_seconds(),
            )
        if status >= 500:
            return port.Temporary(message, code=code, http_status=status)
        return port.Permanent(message, code=code, http_status=status)


def _millis(value: object) -> datetime | None:
    return epoch_time(value, per_second=1000) if isinstance(value, int) else None


def _poll(poll: Poll) -> dict[str, Any]:
    return {
        "question": poll.question,
        "options": [{"text": o} for o in poll.options],
        "settings": {"duration": _DURATIONS[poll.duration_minutes]},  # checked against the caps table
    }


def _title(content: Content) -> str:
    first = (content.text or "").strip().splitlines()
    return (first[0] if first else content.link or "")[:200]


def _post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}"
