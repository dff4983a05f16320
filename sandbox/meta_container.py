"""What the Instagram and Threads fakes share: Meta's containers and their publishing.

A container is made by ``POST /{user}/{container edge}`` (each platform checks its own fields),
reads IN_PROGRESS for ``processing_polls`` status reads and then FINISHED, EXPIRED 24 h after it
was made, ERROR when a test sets ``error``, and PUBLISHED once ``POST /{user}/{publish edge}``
has turned it into a post. Publishing is capped per rolling 24 h
(``GET /{user}/{limit edge}`` reports the window) and answers the documented codes:
9007/2207027 not ready, -2/2207020 expired, 9/2207042 limit reached. Re-publishing a published
container has no documented code; the fakes answer 100 "already published".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from sandbox.base import (
    FakePost,
    Handler,
    SlidingWindow,
    json_reply,
    read_fields,
)
from sandbox.fake_app import new_fake_app
from sandbox.graph import GraphState, add_graph_routes, authorise, graph_error, graph_fields, graph_list
from shared.json_values import digits

CONTAINER_TTL = timedelta(hours=24)


@dataclass
class Container:
    id: str
    owner: str
    fields: dict[str, str]
    created_at: datetime
    polls_left: int
    published: bool = False
    error: str | None = None


@dataclass
class ContainerState(GraphState):
    processing_polls: int = 0  # status reads answered IN_PROGRESS before FINISHED
    publishing: SlidingWindow = field(default_factory=lambda: SlidingWindow(250, timedelta(hours=24)))
    containers: dict[str, Container] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        self.publishing.clear()
        self.containers.clear()


class ContainerFake:
    """The container handlers; a platform names its text field, its posts and its messages."""

    version: str  # the path prefix the platform answers under
    container_edge: str  # "media", "threads": POST makes a container, GET lists the posts
    publish_edge: str  # "media_publish", "threads_publish"
    limit_edge: str  # "content_publishing_limit", "threads_publishing_limit"
    text_field: str  # "caption", "text"
    post_id_prefix: str  # Instagram media ids start 17…, Threads post ids 18…
    limit_message: str  # what the platform says when the publishing window is full
    missing_node: str  # the message for an unknown id, with ``{node}``
    # Instagram refuses a metric it doesn't have with #100 (ig-media/insights); Threads leaves it out.
    strict_metrics: bool = False

    def __init__(self, state: ContainerState) -> None:
        self.s = state

    async def create_container(self, request: web.Request) -> web.Response:
        """Check the platform's own fields, then ``store``."""
        raise NotImplementedError

    def metrics(self, post: FakePost) -> dict[str, int]:
        """The insights the platform reports for a post, by metric name."""
        raise NotImplementedError

    def post_url(self, account: str, post_id: str) -> str:
        raise NotImplementedError

    def post_json(self, post: FakePost) -> dict[str, Any]:
        raise NotImplementedError

    def container_json(self, container: Container, status: str) -> dict[str, Any]:
        raise NotImplementedError

    def status(self, container: Container) -> str:
        if container.published:
            return "PUBLISHED"
        if container.error:
            return "ERROR"
        if self.s.now() - container.created_at > CONTAINER_TTL:
            return "EXPIRED"
        return "IN_PROGRESS" if container.polls_left > 0 else "FINISHED"

    def store(self, owner: str, fields: dict[str, str], headers: dict[str, str]) -> web.Response:
        """Keep a container whose fields the platform's own handler has checked."""
        container = Container(str(self.s.next_id()), owner, fields, self.s.now(), self.s.processing_polls)
        self.s.containers[container.id] = container
        return json_reply({"id": container.id}, 200, headers)

    async def publish(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        account, headers = authorise(self.s, request, owner)
        fields = await read_fields(request)
        container = self.s.containers.get(str(fields.get("creation_id") or ""))
        if container is None or container.owner != owner:
            return graph_error("(#100) Invalid creation_id", 100)
        status = self.status(container)
        if status == "PUBLISHED":
            return graph_error("(#100) The media has already been published", 100)
        if status == "EXPIRED":
            return graph_error("The media container has expired", -2, subcode=2207020)
        if status != "FINISHED":
            return graph_error("Media ID is not available", 9007, subcode=2207027)
        if not self.s.publishing.take(owner, self.s.now()).allowed:
            return graph_error(self.limit_message, 9, subcode=2207042)
        container.published = True
        post_id = f"{self.post_id_prefix}{self.s.next_id():015d}"
        self.s.posts.append(
            FakePost(
                id=post_id,
                account=account,
                text=container.fields.get(self.text_field, ""),
                created_at=self.s.now(),
                url=self.post_url(account, post_id),
                data={"owner": owner, "container": container.id, **container.fields},
            )
        )
        return json_reply({"id": post_id}, 200, headers)

    async def publishing_limit(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        window = self.s.publishing.peek(owner, self.s.now())
        config = {
            "quota_total": window.limit,
            "quota_duration": int(self.s.publishing.period.total_seconds()),
        }
        data = [{"quota_usage": window.limit - window.remaining, "config": config}]
        return json_reply({"data": data}, 200, headers)

    async def read_node(self, request: web.Request) -> web.Response:
        """A container's status (each read counts down its processing) or a post."""
        node = request.match_info["node"]
        container = self.s.containers.get(node)
        post = self.s.find_post(node)
        owner = container.owner if container else post.data["owner"] if post else node
        _, headers = authorise(self.s, request, owner)
        if container is not None:
            if container.polls_left > 0:
                container.polls_left -= 1
            return json_reply(self.container_json(container, self.status(container)), 200, headers)
        if post is None:
            return graph_error(self.missing_node.format(node=node), 100, subcode=33)
        return json_reply(_asked(self.post_json(post), request), 200, headers)

    async def list_posts(self, request: web.Request) -> web.Response:
        """The user's posts, newest first: ``limit``, and ``since`` (epoch seconds or a date)."""
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        try:
            limit, earliest = int(request.query.get("limit", "25")), _since(request.query.get("since"))
        except ValueError:
            return graph_error("(#100) limit must be a number; since a Unix timestamp or a date", 100)
        mine = [
            p
            for p in reversed(self.s.posts)
            if p.data.get("owner") == owner
            and (earliest is None or p.created_at >= earliest)
            and self.s.listed(p)
        ]
        data = [_asked(self.post_json(p), request) for p in mine[:limit]]
        return json_reply({"data": data}, 200, headers)

    async def insights(self, request: web.Request) -> web.Response:
        post = self.s.find_post(request.match_info["node"])
        _, headers = authorise(self.s, request, post.data["owner"] if post else "")
        if post is None:
            return graph_error("(#100) Object does not exist", 100, subcode=33)
        values = self.metrics(post)
        wanted = graph_list(request.query.get("metric", ",".join(values)))
        unknown = [m for m in wanted if m not in values]
        if unknown and self.strict_metrics:
            message = f"(#100) metric[{wanted.index(unknown[0])}] must be one of the following values: "
            return graph_error(message + ", ".join(values), 100)
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values[name]}],
                "id": f"{post.id}/insights/{name}",
            }
            for name in wanted
            if name in values
        ]
        return json_reply({"data": data}, 200, headers)


def _since(value: str | None) -> datetime | None:
    """``since`` as Graph takes it, "a Unix timestamp or strtotime value": epoch seconds or an
    ISO date/time (the documented example is ``2023-10-15``); ValueError when it is neither."""
    if not value:
        return None
    if digits(value.strip()):
        return datetime.fromtimestamp(int(value), UTC)
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _asked(node: dict[str, Any], request: web.Request) -> dict[str, Any]:
    """Only the fields asked for (and ``id``), as Graph answers: an adapter that reads a field it
    did not ask for must not pass here."""
    if "fields" not in request.query:
        return node
    wanted = {"id": None, **graph_fields(request.query["fields"])}
    out: dict[str, Any] = {}
    for name, sub in wanted.items():
        if name not in node:
            continue
        value = node[name]
        out[name] = {k: v for k, v in value.items() if k in sub} if sub and isinstance(value, dict) else value
    return out


def container_app(
    fake: ContainerFake, extra: Callable[[web.Application], list[tuple[str, str, Handler]]] | None = None
) -> web.Application:
    """The fake's routes under its version, as Meta's hosts serve them; ``extra`` adds a fake's
    own (its admin routes on the app, its Graph routes returned), e.g. the comment edges."""
    app = new_fake_app(fake.s)
    own = extra(app) if extra is not None else []
    add_graph_routes(
        app,
        fake.version,
        [
            *own,
            ("POST", f"/{{node}}/{fake.container_edge}", fake.create_container),
            ("GET", f"/{{node}}/{fake.container_edge}", fake.list_posts),
            ("POST", f"/{{node}}/{fake.publish_edge}", fake.publish),
            ("GET", f"/{{node}}/{fake.limit_edge}", fake.publishing_limit),
            ("GET", "/{node}/insights", fake.insights),
            ("GET", "/{node}", fake.read_node),
        ],
    )
    return app
