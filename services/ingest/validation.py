"""Validation of a submission against the request schema and every target channel's rules.

Pure: no I/O, no clock (``now`` is an argument). ``validate_submission`` either returns a
``ValidSubmission`` or raises ``ValidationFailed`` carrying *every* problem found, each as a
``FieldError`` (channel, dotted field path, stable rule name, human message). Pydantic's own
errors are translated into that shape; its URLs and input echoes never reach the client.

A target's ``content`` is merged over the base ``content``: each field the target gives
(``text``, ``link``, ``media``, ``poll``; an explicit null included) replaces the base's. The
merged content is checked against the channel's platform row in ``shared.capabilities`` by the
capability rule the publishers apply too (``shared.capability_rules``), and an error points at
the field where the offending value was written (``content.text`` when it came
from the base, ``targets[1].content.text`` when the target set it).

Rules (``FieldError.rule``): required, type, unknown_field, enum, pattern, min_length,
max_length, min_value, max_value, offset_required, https_required, url (a link or media URL
that is no http(s) URL with a host: ``content_checks.is_web_url``), the capability rules
(``shared.capability_rules.Rule``: media_type, media_count, media_size, media_duration,
media_required, video_required, max_length, hashtag_count, mention_count, poll_unsupported,
poll_options, poll_duration, poll_with_media), text_or_media_required (no media, and no text or a blank one: whitespace and
invisible characters only, ``content_checks.is_blank``), deadline_before_not_before,
deadline_past, out_of_range, beyond_horizon, approved_in_future, four_eyes, empty_targets,
duplicate_channel, unknown_channel. Four eyes compares person ids case-folded, as every rule
about who did what does (``shared.event_fields.same_person``).

``not_before`` and ``deadline`` must lie within the scheduling horizon of ``now``
(``shared.horizon``: ``schedule_horizon_days``, 400 days unless set, the scheduler's bound too):
the plan holds jobs that long, and no one means an embargo until year 9999. Every date-time must lie in the range events keep to
(``shared.events.EARLIEST_INSTANT`` … ``LATEST_INSTANT``, rule ``out_of_range``).

The item a valid submission makes has a size of its own: each channel's variant carries a copy
of its merged content, so a body well under the request limit can make an event larger than the
broker takes. ``check_event_size`` refuses such an item with ``PayloadTooLarge`` (413, rule
``payload_too_large``) before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict, Unpack

from pydantic import TypeAdapter, ValidationError

from services.ingest.content_checks import is_blank, is_web_url
from services.ingest.request import (
    ContentBody,
    ContentRequest,
    DraftRequest,
    MediaBody,
    OffsetDateTime,
    PollBody,
    TargetBody,
)
from shared.capabilities import PlatformCapabilities, capabilities_for_channel
from shared.capability_rules import Rule, problems
from shared.channels import ChannelDirectory
from shared.codec import encode
from shared.event_fields import same_person
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    Media,
    Poll,
)
from shared.field_errors import not_an_object, translate
from shared.horizon import DEFAULT_HORIZON
from shared.http_errors import FieldError, PayloadTooLarge, ValidationFailed, field_error
from shared.messages import Param

# An approval stamped a little ahead of our clock is clock skew, not a forgery.
APPROVAL_CLOCK_SKEW = timedelta(minutes=5)

_MEDIA_TYPE_PREFIXES = ("image/", "video/")

# What ``content.approved`` carries from the submission as it was given: every field the two
# name alike (the approval aside, which a ContentRequest's ``ApprovalBody`` only stands in for).
_CARRIED = tuple(sorted(DraftRequest.model_fields.keys() & ContentApproved.model_fields.keys()))


class ApprovedStamp(TypedDict):
    """What ingest stamps on a submission to make it ``content.approved`` (ContentApproved's
    fields of the same names): the ids, the moment, who sent it and, where known, the client's
    Idempotency-Key with its body's hash, the draft approved and the trace."""

    content_id: str
    event_id: str
    occurred_at: datetime
    submitted_by: str
    idempotency_key: NotRequired[str | None]
    request_sha256: NotRequired[str | None]
    draft_id: NotRequired[str | None]
    traceparent: NotRequired[str | None]


@dataclass(frozen=True)
class ValidSubmission:
    """A request that passed every check, with the content each channel will post."""

    request: ContentRequest | DraftRequest
    variants: tuple[ChannelVariant, ...]

    def approved_event(
        self, *, approval: Approval | None = None, **stamp: Unpack[ApprovedStamp]
    ) -> ContentApproved:
        """The ``content.approved`` event; ``approval`` is required for a draft being approved."""
        req = self.request
        if approval is None:
            if not isinstance(req, ContentRequest):
                raise ValueError("a draft has no approval of its own: pass the approval")
            approval = Approval(approved_by=req.approval.approved_by, approved_at=req.approval.approved_at)
        carried = {name: getattr(req, name) for name in _CARRIED}
        return ContentApproved(**carried, **stamp, approval=approval, variants=self.variants)


# --- the submission ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    """The pieces semantic checks need, each None when it did not parse (already reported)."""

    content: ContentBody | None
    targets: tuple[tuple[int, TargetBody], ...]
    targets_given: bool
    not_before: datetime | None
    deadline: datetime | None
    author: str | None
    approved_by: str | None
    approved_at: datetime | None


_TIME: TypeAdapter[datetime] = TypeAdapter(OffsetDateTime)


def _try(parse: Callable[[Any], Any], value: Any) -> Any:
    try:
        return parse(value)
    except ValidationError:
        return None


def _salvage(body: dict[str, Any]) -> _Parts:
    """Parse each piece on its own so that a broken field elsewhere hides no channel problem."""
    raw_targets = body.get("targets")
    targets: list[tuple[int, TargetBody]] = []
    if isinstance(raw_targets, list):
        for i, raw in enumerate(raw_targets):
            target = _try(TargetBody.model_validate, raw)
            if target is not None:
                targets.append((i, target))
    approval = body.get("approval") if isinstance(body.get("approval"), dict) else {}
    assert isinstance(approval, dict)
    return _Parts(
        content=_try(ContentBody.model_validate, body.get("content")),
        targets=tuple(targets),
        targets_given=isinstance(raw_targets, list) and len(targets) == len(raw_targets),
        not_before=_try(_TIME.validate_python, body.get("not_before")),
        deadline=_try(_TIME.validate_python, body.get("deadline")),
        author=body.get("author") if isinstance(body.get("author"), str) else None,
        approved_by=approval.get("approved_by") if isinstance(approval.get("approved_by"), str) else None,
        approved_at=_try(_TIME.validate_python, approval.get("approved_at")),
    )


def _parts_of(req: ContentRequest | DraftRequest) -> _Parts:
    approval = req.approval if isinstance(req, ContentRequest) else None
    return _Parts(
        content=req.content,
        targets=tuple(enumerate(req.targets)),
        targets_given=True,
        not_before=req.not_before,
        deadline=req.deadline,
        author=req.author,
        approved_by=approval.approved_by if approval else None,
        approved_at=approval.approved_at if approval else None,
    )


def validate_submission(
    body: object,
    channels: ChannelDirectory,
    now: datetime,
    *,
    require_approval: bool = True,
    horizon: timedelta = DEFAULT_HORIZON,
) -> ValidSubmission:
    """Check a ``POST /v1/content`` body (or ``POST /v1/drafts`` with ``require_approval=False``).

    Returns the parsed request and one ``ChannelVariant`` per target; raises ``ValidationFailed``
    with every problem found otherwise. ``now`` must be timezone-aware; ``not_before`` and
    ``deadline`` must lie within ``horizon`` of it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(body, dict):
        raise ValidationFailed([not_an_object()])
    model: type[ContentRequest | DraftRequest] = ContentRequest if require_approval else DraftRequest
    errors: list[FieldError] = []
    req: ContentRequest | DraftRequest | None = None
    try:
        req = model.model_validate(body)
        parts = _parts_of(req)
    except ValidationError as exc:
        errors += translate(exc, body)
        parts = _salvage(body)

    errors += _check_times(parts, now, horizon)
    errors += _check_four_eyes(parts)
    variants: list[ChannelVariant] = []
    if parts.content is not None:
        errors += _check_base_content(parts.content)
    errors += _check_targets(parts, channels, variants)

    if errors:
        raise ValidationFailed(_unique(errors))
    assert req is not None  # no errors means the model parsed
    return ValidSubmission(request=req, variants=tuple(variants))


def _unique(errors: list[FieldError]) -> list[FieldError]:
    return list(dict.fromkeys(errors))


def check_event_size(event: ContentApproved, limit: int) -> None:
    """Refuse an item whose encoded event is over ``limit`` bytes: the broker would refuse its
    record on every retry, and the client would hear 503 (retry later) for ever."""
    size = len(encode(event))
    if size > limit:
        channels = len(event.variants)
        refusal = field_error(
            None, None, "payload_too_large.event", size=size, limit=limit, channels=channels
        )
        raise PayloadTooLarge([refusal])


class _Errors:
    """Collects ``FieldError``s for one channel (or none) with short call sites."""

    def __init__(self, channel: str | None = None) -> None:
        self.channel = channel
        self.items: list[FieldError] = []

    def __call__(self, field: str | None, key: str, /, **params: Param) -> None:
        self.items.append(field_error(self.channel, field, key, **params))


def _check_times(parts: _Parts, now: datetime, horizon: timedelta) -> list[FieldError]:
    add = _Errors()
    nb, dl, at = parts.not_before, parts.deadline, parts.approved_at
    for name, value in (("not_before", nb), ("deadline", dl)):
        # Differences, not now ± horizon: they cannot overflow whatever the dates.
        if value is not None and value - now > horizon:
            add(name, "beyond_horizon", field=name, value=str(value), days=horizon.days, now=str(now))
        elif value is not None and now - value > horizon and name == "not_before":
            add(name, "beyond_horizon.past", field=name, value=str(value), days=horizon.days, now=str(now))
    if dl is not None and nb is not None and dl <= nb:
        add("deadline", "deadline_before_not_before", deadline=str(dl), not_before=str(nb))
    if dl is not None and dl <= now:
        add("deadline", "deadline_past", deadline=str(dl), now=str(now))
    if at is not None and at > now + APPROVAL_CLOCK_SKEW:
        add("approval.approved_at", "approved_in_future", approved_at=str(at), now=str(now))
    return add.items


def _check_four_eyes(parts: _Parts) -> list[FieldError]:
    add = _Errors()
    if same_person(parts.author, parts.approved_by):
        add("approval.approved_by", "four_eyes", author=parts.author)
    return add.items


def _check_urls(content: ContentBody, where: str, channel: str | None = None) -> list[FieldError]:
    """Checks that hold on every platform, for the fields written at ``where``."""
    add = _Errors(channel)
    if content.link is not None and not is_web_url(content.link):
        add(f"{where}.link", "url", field=f"{where}.link")
    for i, media in enumerate(content.media):
        at = f"{where}.media[{i}]"
        # Platforms fetch media themselves from a public URL (platforms.md §2 "Meta fetches it with
        # cURL", §8 "verified domain"); we only hand them https.
        if not media.url.lower().startswith("https://"):
            add(f"{at}.url", "https_required", field=f"{at}.url")
        elif not is_web_url(media.url):
            add(f"{at}.url", "url", field=f"{at}.url")
        if not media.type.lower().startswith(_MEDIA_TYPE_PREFIXES):
            add(f"{at}.type", "media_type.not_mime", field=f"{at}.type", type=media.type)
    if content.poll is not None and len(set(content.poll.options)) != len(content.poll.options):
        add(f"{where}.poll.options", "poll_options.repeated", field=f"{where}.poll.options")
    return add.items


def _check_base_content(content: ContentBody) -> list[FieldError]:
    out = _check_urls(content, "content")
    if is_blank(content.text) and not content.media:
        out.append(_nothing_to_post(None, "content", content.text, text_here=True))
    return out


def _nothing_to_post(channel: str | None, where: str, text: str | None, *, text_here: bool) -> FieldError:
    """text_or_media_required for the content written at ``where``: at its text when the text
    written there is blank (platforms strip it and then find nothing to post), else at the
    content itself."""
    if text is not None and text_here:
        return field_error(channel, f"{where}.text", "text_or_media_required.blank", field=f"{where}.text")
    if channel is None:
        return field_error(None, where, "text_or_media_required")
    return field_error(channel, where, "text_or_media_required.target", field=where, channel=channel)


def _check_targets(
    parts: _Parts, channels: ChannelDirectory, variants: list[ChannelVariant]
) -> list[FieldError]:
    out: list[FieldError] = []
    if parts.targets_given and not parts.targets:
        out.append(field_error(None, "targets", "empty_targets"))
    seen: set[str] = set()
    # id(merged) -> (merged, its Content); holding merged keeps its id from being reused.
    converted: dict[int, tuple[ContentBody, Content]] = {}
    for i, target in parts.targets:
        where, add = f"targets[{i}]", _Errors(target.channel)
        if target.content is not None:
            out += _check_urls(target.content, f"{where}.content", target.channel)
        channel = channels.get(target.channel)
        if target.channel in seen:
            add(f"{where}.channel", "duplicate_channel", channel=target.channel)
        elif channel is None:
            known = ", ".join(channels.ids[:20]) or "none configured"
            add(f"{where}.channel", "unknown_channel", channel=target.channel, known=known)
        seen.add(target.channel)
        out += add.items
        if add.items or channel is None or parts.content is None:
            continue  # a broken base content is already reported
        merged, overridden = merge_content(parts.content, target.content)
        if is_blank(merged.text) and not merged.media and overridden & {"text", "media"}:
            here = "text" in overridden
            out.append(_nothing_to_post(target.channel, f"{where}.content", merged.text, text_here=here))
            continue

        def path(name: str, _i: int = i, _over: frozenset[str] = overridden) -> str:
            return f"targets[{_i}].content.{name}" if name in _over else f"content.{name}"

        # Targets without a content of their own share the base: convert it to events once.
        if id(merged) not in converted:
            converted[id(merged)] = (merged, to_content(merged))
        content = converted[id(merged)][1]
        found = check_variant(target.channel, capabilities_for_channel(channel), content, path)
        out += found
        if not found:
            variants.append(ChannelVariant(channel=target.channel, content=content))
    return out


def merge_content(base: ContentBody, override: ContentBody | None) -> tuple[ContentBody, frozenset[str]]:
    """The base content with every field the target gave replacing the base's."""
    if override is None:
        return base, frozenset()
    given = frozenset(override.model_fields_set)
    return base.model_copy(update={name: getattr(override, name) for name in given}), given


def to_content(body: ContentBody) -> Content:
    return Content(
        text=body.text,
        link=body.link,
        media=tuple(_to_media(m) for m in body.media),
        poll=_to_poll(body.poll),
    )


def _to_media(m: MediaBody) -> Media:
    return Media(
        url=m.url, type=m.type, alt=m.alt, size_bytes=m.size_bytes, duration_seconds=m.duration_seconds
    )


def _to_poll(p: PollBody | None) -> Poll | None:
    if p is None:
        return None
    return Poll(question=p.question, options=tuple(p.options), duration_minutes=p.duration_minutes)


# --- one channel -------------------------------------------------------------------------------


def check_variant(
    channel: str, caps: PlatformCapabilities, content: Content, path: Callable[[str], str]
) -> list[FieldError]:
    """Every way ``content`` breaks ``caps`` (``shared.capability_rules``, the publishers' rule
    too) as field errors; ``path(field)`` says where a top-level field was written."""
    out: list[FieldError] = []
    for problem in problems(caps, content):
        head, dot, rest = problem.field.partition(".")
        name, bracket, index = head.partition("[")
        if problem.rule is Rule.MEDIA_TYPE and not _is_media_type(content.media[int(index[:-1])].type):
            continue  # not a media type at all: reported once, where it was written
        field = path(name) + bracket + index + dot + rest
        out.append(
            FieldError(channel, field, problem.rule.value, problem.message, problem.params, problem.key)
        )
    return out


def _is_media_type(mime: str) -> bool:
    return mime.lower().startswith(_MEDIA_TYPE_PREFIXES)
