"""Waiting out a platform's processing (a Meta container, a TikTok upload), against any sequence
of answers the platform may give: it asks again only while the answer is not final, never past
the limit, and past it raises the adapter's own ``Temporary`` with the last answer and the
seconds waited."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.publisher.adapters import port
from services.publisher.adapters.common import until_processed

TICK = 1 / 1024  # exact in binary: the waited seconds add up without rounding


class Platform:
    """A status endpoint that answers from a script, and counts what it was asked."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.asked = 1  # the caller's first answer came from it already

    async def ask(self) -> tuple[int, bool]:
        self.asked += 1
        return self.asked - 1, self.answers[self.asked - 1]


class StillProcessing(port.Temporary):
    def __init__(self, answer: tuple[int, bool], waited: float) -> None:
        super().__init__(f"still processing after {waited}s", code="pending", retry_after=waited)
        self.answer = answer
        self.waited = waited


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=12), st.integers(min_value=0, max_value=10))
def test_it_asks_until_final_and_never_past_the_limit(answers: list[bool], ticks: int) -> None:
    answers = [*answers, True]  # a platform that eventually finishes
    platform = Platform(answers)
    first_final = answers.index(True)

    async def wait() -> tuple[int, bool]:
        return await until_processed(
            (0, answers[0]),
            platform.ask,
            lambda answer: answer[1],
            interval=TICK,
            limit=ticks * TICK,
            pending=StillProcessing,
        )

    if first_final <= ticks:
        assert asyncio.run(wait()) == (first_final, True)
        assert platform.asked == first_final + 1
    else:
        with pytest.raises(StillProcessing) as raised:
            asyncio.run(wait())
        assert raised.value.answer == (ticks, False)
        assert raised.value.waited == ticks * TICK
        assert platform.asked == ticks + 1
