"""Every way the inbox says no, or a platform's answer cannot be used.

Errors::

    InboxError                   anything raised by the inbox's own code
    ├── ReadFailed               a platform read did not give comments
    │   ├── Unreadable           the platform answered, but not with what its API documents
    │   │                        (a body of another shape, a comment without its id): permanent
    │   ├── ReadRefused          401/403/404: the token, the permission or the post is gone;
    │   │                        polling that post again will not help until a person acts
    │   └── ReadThrottled        429, a quota error or a 5xx; ``retry_after`` seconds
    │                            (``retriable``): the poll is tried again later
    ├── BadSignature             a webhook delivery whose ``X-Hub-Signature-256`` is missing or
    │                            not the body's HMAC: 401 (a body over the limit is the shared
    │                            ``PayloadTooLarge``, 413)
    ├── IllegalTransition        an inbox action its entry's state does not allow: 409
    │   ├── ApprovalRequired     a rule of the four eyes (or the role) refuses it: 403
    │   ├── ReasonRequired       a hide, close or delete without a reason: 422
    │   ├── TextRequired         a reply whose text is blank (invisible characters only): 422
    │   ├── SomeoneAnswering     another person is answering the comment (a mark or a pending
    │   │                        draft of theirs) and the action did not say ``override``: 409
    │   └── NotOnPlatform        the channel's platform cannot do it (a delete where its API
    │                            deletes no citizen's comment): 422
    ├── BadCalendar              the working calendar (days off) cannot be read: the start stops
    └── LaporFailed              LAPOR! did not take a complaint: the record stays ``recorded``
        │                        with the reason, and the forward may be tried again (502)
        ├── LaporRefused         LAPOR! answered 4xx (token, body): as sent, it will not be taken
        └── LaporUnavailable     5xx, a timeout, no connection, an unreadable answer: ``retriable``

Two bases hold what refusals share: ``Refused`` (``ReadRefused``, ``LaporRefused``) keeps the
status the other side answered; ``SaidRefusal`` (``BadSignature``, ``IllegalTransition``) keeps
the inbox's own words and the status it answers with, which the HTTP layer turns into a problem.
"""

from __future__ import annotations

from shared.messages import Said


class InboxError(Exception):
    """Anything the inbox raises on purpose."""


class Refused(InboxError):
    """Another side's refusal, with the HTTP status it answered (a platform's read, LAPOR!)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class SaidRefusal(InboxError):
    """The inbox's own refusal, in a person's words (``said``) and with the HTTP status it is
    answered with (``status``, per class)."""

    status: int

    def __init__(self, message: Said) -> None:
        super().__init__(str(message))
        self.said = message


class ReadFailed(InboxError):
    retriable = False
    retry_after: float | None = None


class Unreadable(ReadFailed):
    """The answer's shape is not the platform's documented one."""


class ReadRefused(ReadFailed, Refused):
    """The platform refused the read (token, permission, the post deleted)."""


class ReadThrottled(ReadFailed):
    """A rate limit, a quota or a temporary failure: try again after ``retry_after`` seconds."""

    retriable = True

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadSignature(SaidRefusal):
    status = 401


class IllegalTransition(SaidRefusal):
    """The entry's state does not allow the action (a second reply without an override, an
    action on a closed comment)."""

    status = 409
    rule = "illegal_transition"  # every key of its messages starts with its rule


class ApprovalRequired(IllegalTransition):
    """Four eyes: a draft needs an approver who is not its author, holding the approver role."""

    status = 403
    rule = "four_eyes"


class ReasonRequired(IllegalTransition):
    """Hiding, closing or deleting a citizen's comment is recorded with why: an empty reason is
    a request to correct (422), not a clash with the entry's state."""

    status = 422


class TextRequired(IllegalTransition):
    """A reply of spaces and invisible characters only (``shared.blank_text``) says nothing to the
    citizen, and the platforms refuse it: a request to correct (422), as a blank reason is."""

    status = 422


class SomeoneAnswering(IllegalTransition):
    """Another person is answering the comment: a second answer needs a deliberate override."""

    rule = "someone_answering"


class NotOnPlatform(IllegalTransition):
    """The platform's API cannot do the action (``abilities`` says so before anyone tries)."""

    status = 422
    rule = "not_on_platform"


class BadCalendar(InboxError):
    """``deploy/calendar.yaml`` (or the file the settings name) is not a readable calendar."""


class LaporFailed(InboxError):
    """LAPOR!'s integration API did not take a complaint."""

    retriable = False


class LaporRefused(LaporFailed, Refused):
    """LAPOR! refused the request (401 token, 400/422 body): an operator fixes it first."""


class LaporUnavailable(LaporFailed):
    """LAPOR! could not be reached or failed (5xx, a timeout): a retry may succeed."""

    retriable = True
