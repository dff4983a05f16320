"""Facebook Pages through the Graph API: ``/{page-id}/feed`` and ``/{page-id}/photos``.

Contract (developers.facebook.com/docs/pages/publishing, graph-api/photo-uploads,
graph-api/guides/error-handling; errors and usage headers in ``graph``):

- Text and link posts: ``POST /{page-id}/feed`` with ``message`` and ``link``; answers
  ``{"id": "{page-id}_{post-id}"}``.
- One image: ``POST /{page-id}/photos`` (multipart ``source`` plus ``message``); answers the
  photo ``id`` and the feed ``post_id``. Several images: each uploaded with ``published=false``
  (invisible), then one ``/feed`` post with ``attached_media[i]={"media_fbid": id}``.
- Polls can't be posted to a Page through the Graph API; videos (``/videos``) are not handled
  by this adapter.
- No idempotency key. Code 506 rejects a duplicate of the previous post.

Target options: ``page_id`` (defaults to the account).

Reconciliation: a Page post has no field to hide a marker in, and a visible marker has no place
on a government Page. ``find_by_marker`` instead reads the latest Page posts
(``GET /{page-id}/feed`` with ``attachments{unshimmed_url}``) and judges them with
``lookup.judge_listing``: the exact message this request produces, or for a link-only post its
link; a photo-only post can't be told apart, so any text-less post since the attempt makes the
answer ``Unknown``. Facebook's own duplicate rule (506) makes two identical consecutive posts
unlikely, so a match is strong evidence.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.graph import GraphAdapter, parse_graph_time
from services.publisher.adapters.lookup import Listed, verdict
from shared.events import Content, Media
from shared.json_values import as_id, as_int, as_list, as_object

LOOKUP_LIMIT = 100  # the feed's largest page
PUBLIC_BASE = "https://www.facebook.com"


class FacebookAdapter(GraphAdapter):
    platform = "facebook"

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        content = request.content
        check_content(self.platform, content)  # the table has no polls or videos for Pages
        page = _page(target)
        if len(content.media) == 1:
            form = await self._photo_form(content, content.media[0])
            reply = await self.call(target, "POST", f"/{page}/photos", creates_post=True, data=form)
            body = self._ok(target, reply)
            return _published(as_id(body.get("post_id")) or as_id(body.get("id")))
        fields: dict[str, str] = {"message": _message(content, with_link=False)}
        if content.link:
            fields["link"] = content.link
        for index, media in enumerate(content.media):
            fbid = await self._upload_unpublished(target, media)
            fields[f"attached_media[{index}]"] = orjson.dumps({"media_fbid": fbid}).decode()
        if not fields["message"] and len(fields) == 1:
            raise port.Permanent("facebook: nothing to post (no text, link or media)", code="empty")
        reply = await self.call(target, "POST", f"/{page}/feed", creates_post=True, data=fields)
        return _published(as_id(self._ok(target, reply).get("id")))

    async def _photo_form(
        self, content: Content, media: Media, *, published: bool = True
    ) -> aiohttp.FormData:
        fetched = await self._fetcher.fetch(media)
        form = aiohttp.FormData()
        form.add_field("source", fetched.data, content_type=fetched.content_type, filename=fetched.filename)
        if published:
            # /photos has no link field: the link rides in the caption.
            form.add_field("message", _message(content, with_link=True))
        else:
            form.add_field("published", "false")
        if media.alt:
            form.add_field("alt_text_custom", media.alt)
        return form

    async def _upload_unpublished(self, target: port.Target, media: Media) -> str:
        form = await self._photo_form(Content(), media, published=False)
        # An unpublished photo is invisible until attached: losing the reply costs nothing.
        reply = await self.call(target, "POST", f"/{_page(target)}/photos", creates_post=False, data=form)
        fbid = str(self._ok(target, reply).get("id") or "")
        if not fbid:
            raise port.Permanent("facebook: photo upload answered without an id", code="no_id")
        return fbid

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        """Whether the Page's latest posts hold this request's post (see module doc)."""
        fields = "id,message,created_time,permalink_url,attachments{unshimmed_url}"
        reply = await self.call(
            target,
            "GET",
            f"/{_page(target)}/feed",
            params={"fields": fields, "limit": str(LOOKUP_LIMIT)},
        )
        content = request.content
        ours = _message(content, with_link=False)
        listed: list[Listed] = []
        for post in as_list(self._ok(target, reply).get("data")):
            if not isinstance(post, dict):
                continue
            created = parse_graph_time(post.get("created_time"))
            attachments = as_list(as_object(post.get("attachments")).get("data"))
            links = [
                a["unshimmed_url"]
                for a in attachments
                if isinstance(a, dict) and isinstance(a.get("unshimmed_url"), str) and a["unshimmed_url"]
            ]
            judged = verdict(ours, str(post.get("message") or ""), our_link=content.link, their_links=links)
            post_id = as_id(post.get("id"))
            permalink = post.get("permalink_url")
            found = port.Published(
                post_id,
                permalink if isinstance(permalink, str) and permalink else _post_url(post_id),
                created,
            )
            listed.append(Listed(created, judged, found if post_id else None))
        return self.judge(listed, request, page_full=len(listed) >= LOOKUP_LIMIT)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self.call(
            target,
            "GET",
            f"/{post_id}",
            params={"fields": "reactions.summary(total_count),comments.summary(total_count),shares"},
        )
        body = self._ok(target, reply)

        def total(edge: str) -> int:
            return as_int(as_object(as_object(body.get(edge)).get("summary")).get("total_count")) or 0

        return port.Engagement(
            reactions=total("reactions"),
            comments=total("comments"),
            shares=as_int(as_object(body.get("shares")).get("count")) or 0,
        )

    def _ok(self, target: port.Target, reply: Reply) -> dict[str, Any]:
        if not 200 <= reply.status < 300:  # a 2xx to a post without its id is Ambiguous (_published)
            raise self.classify_error(target, reply)
        return reply.json_object()


def _page(target: port.Target) -> str:
    return target.options.get("page_id") or target.account


def _message(content: Content, *, with_link: bool) -> str:
    text = (content.text or "").strip()
    if with_link and content.link and content.link not in text:
        return f"{text}\n\n{content.link}".strip()
    return text


def _post_url(post_id: str) -> str:
    # facebook.com/{page-id}_{post-id} resolves to the Page post.
    return f"{PUBLIC_BASE}/{post_id}"


def _published(post_id: str) -> port.Published:
    if not post_id:
        raise port.Ambiguous("facebook: posted, but the reply has no id", code="no_id")
    return port.Published(post_id, _post_url(post_id))
