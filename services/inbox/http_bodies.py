"""The bodies the inbox's routes read (``http_api.read_model``), one model each, in one module:
the handlers validate with them and the OpenAPI document (``services.inbox.openapi``) describes
them from them, so what is refused and what is documented cannot drift apart. They are strict:
the document says boolean, so "yes", "on" or 1 is no ``override`` (pydantic's lax mode would read
each as true).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.template_events import TemplateText

# Every body: no field the document lacks, no value of another JSON type than it says.
_BODY = ConfigDict(extra="forbid", strict=True)
# An instant as the API writes them (RFC 3339 with its offset); a pattern, so that the document
# and the model take the same strings.
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"


class Reason(BaseModel):
    """Why: the body of hide, close, reopen, delete, a complaint's moves and a template's removal.
    Where a reason is required (``lifecycle.NEEDS_REASON``), an empty one is refused by the
    lifecycle (422 in the caller's language), not here."""

    model_config = _BODY
    reason: str = Field(default="", max_length=2000)


class Assign(Reason):
    assignee: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@\-]+$")


class Reply(Reason):
    text: str = Field(min_length=1, max_length=10_000)
    override: bool = False


class Approve(Reason):
    override: bool = False
    # The ``drafted_at`` of the draft the approver read: refused (409) when the draft was replaced
    # since, so what is sent is the text that was approved. Unset: the draft there now.
    drafted_at: str | None = Field(default=None, pattern=RFC3339, max_length=40)


class Answering(BaseModel):
    model_config = _BODY
    override: bool = False


class Texts(BaseModel):
    """A saved answer's two texts (the placeholders are checked after: ``templates.problems``)."""

    model_config = _BODY
    text_en: TemplateText
    text_id: TemplateText
