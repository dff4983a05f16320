"""A platform call's answer within a time limit, as a value: the result, or the error it raised.

The publish call (``platform_call``) and the lookup (``reconciler``) both hand whatever came
back to a pure judge (``decide``), a raised ``AdapterError`` included. What a call that ran out
of time means differs, so the caller names it: a publish may have reached the platform
(``Ambiguous``), a lookup has only not answered yet (``Temporary``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.publisher.adapters.port import AdapterError

T = TypeVar("T")


async def answer_within(
    call: Awaitable[T], timeout_s: float, on_timeout: Callable[[float], AdapterError]
) -> T | AdapterError:
    """``call``'s result or ``AdapterError``; past ``timeout_s``, ``on_timeout(timeout_s)``."""
    try:
        return await asyncio.wait_for(call, timeout_s)
    except AdapterError as exc:
        return exc
    except TimeoutError:
        return on_timeout(timeout_s)
