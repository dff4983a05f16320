"""The body of ``POST /v1/pause`` and ``POST /v1/resume``, in one place: ingest validates it and
writes ``content.control``; the console forwards it to ingest and documents it the same way.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Identifier

Reason = Annotated[str, Field(min_length=1, max_length=1000, description="why; recorded on content.control")]


class PauseRequest(BaseModel):
    """``POST /v1/pause`` and ``POST /v1/resume``: no ``channels`` (or null) means every channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: list[Identifier] | None = Field(default=None, min_length=1, max_length=1000)
    reason: Reason


ResumeRequest = PauseRequest
