"""Saved answers: the inbox's named reply templates, in English and Bahasa Indonesia.

Topic ``inbox.templates`` (compacted, key = the template's name): the latest record per name is
the template as it stands. A deletion is a ``ReplyTemplateDeleted`` record, not a null tombstone,
so who removed it and why stays readable and a rebuild from the topic forgets the template.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.event_fields import EventBase, Identifier

TEMPLATE_TEXT_MAX = 5_000
"""Room for the commenter's name (500 at most) within a reply's 10,000 characters."""

TEMPLATE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
TemplateName = Annotated[str, Field(pattern=TEMPLATE_NAME_PATTERN)]
"""A lowercase slug of 1-64 characters: it is a Kafka key and a path segment as it stands."""

TemplateText = Annotated[str, Field(min_length=1, max_length=TEMPLATE_TEXT_MAX)]


class ReplyTemplateSaved(EventBase):
    """A template created or replaced, with both texts (placeholders already validated)."""

    event_type: Literal["reply_template.saved"] = "reply_template.saved"
    name: TemplateName
    text_en: TemplateText
    text_id: TemplateText
    by: Identifier


class ReplyTemplateDeleted(EventBase):
    """A template removed, by whom and why."""

    event_type: Literal["reply_template.deleted"] = "reply_template.deleted"
    name: TemplateName
    by: Identifier
    reason: str = Field(default="", max_length=2000)
