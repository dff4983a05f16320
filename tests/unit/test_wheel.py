from __future__ import annotations

from collections.abc import Iterable

from services.scheduler.wheel import BUCKET_SECONDS, TimerWheel

T = 1_800_000_000.0  # a minute boundary: 1_800_000_000 / 60 is whole


def exact(instants: dict[int, float]) -> object:
    def lookup(refs: list[int]) -> Iterable[tuple[int, float | None]]:
        return [(r, instants.get(r)) for r in refs]

    return lookup


def test_nothing_fires_before_its_instant_and_order_is_exact() -> None:
    wheel = TimerWheel()
    instants = {1: T + 30.5, 2: T + 0.25, 3: T + 59.9, 4: T + BUCKET_SECONDS + 1}
    for ref, at in instants.items():
        wheel.add(at, ref)
    lookup = exact(instants)
    assert wheel.pop_due(T + 0.2, lookup, 100) == []  # type: ignore[arg-type]
    assert wheel.pop_due(T + 0.25, lookup, 100) == [2]  # type: ignore[arg-type]
    assert wheel.pop_due(T + 59.95, lookup, 100) == [1, 3]  # type: ignore[arg-type]
    assert wheel.next_at() == T + BUCKET_SECONDS
    assert wheel.pop_due(T + BUCKET_SECONDS + 1, lookup, 100) == [4]  # type: ignore[arg-type]
    assert len(wheel) == 0


def test_a_job_added_into_an_open_minute_still_fires() -> None:
    wheel = TimerWheel()
    wheel.add(T + 10, 1)
    lookup = exact({1: T + 10, 2: T + 5})
    assert wheel.pop_due(T + 1, lookup, 100) == []  # type: ignore[arg-type]
    wheel.add(T + 5, 2)  # its minute is already open
    assert wheel.next_at() == T + 5
    assert wheel.pop_due(T + 5, lookup, 100) == [2]  # type: ignore[arg-type]


def test_stale_references_are_dropped_when_their_minute_opens() -> None:
    wheel = TimerWheel()
    wheel.add(T + 10, 1)
    assert wheel.pop_due(T + 20, exact({}), 100) == []  # type: ignore[arg-type]
    assert len(wheel) == 0


def test_add_many_fills_the_wheel_as_add_does_including_minutes_already_open() -> None:
    instants = {1: T + 30.5, 2: T + 0.25, 3: T + 59.9, 4: T + BUCKET_SECONDS + 1, 5: T + 3 * BUCKET_SECONDS}
    lookup = exact({**instants, 6: T + 10.0, 7: T + 20.0})
    one, many = TimerWheel(), TimerWheel()
    for ref, at in instants.items():
        one.add(at, ref)
    many.add_many((at, ref) for ref, at in instants.items())
    assert one.pop_due(T + 5, lookup, 100) == many.pop_due(T + 5, lookup, 100)  # type: ignore[arg-type]
    one.add(T + 20.0, 7)  # into the minute already opened: straight to the exact heap
    many.add_many([(T + 20.0, 7)])
    assert len(one) == len(many) == 5
    for now in (T + 25, T + 59.95, T + BUCKET_SECONDS + 1, T + 4 * BUCKET_SECONDS):
        assert one.pop_due(now, lookup, 100) == many.pop_due(now, lookup, 100)  # type: ignore[arg-type]
    assert len(one) == len(many) == 0


def test_a_paged_wheel_holds_only_what_is_due_soon_and_fires_everything_in_order() -> None:
    from services.scheduler.store import page_of

    instants = {ref: T + ref * 600.0 for ref in range(1, 41)}  # one every ten minutes
    reads: list[float] = []

    def pager(after: float, limit: int) -> tuple[list[tuple[float, int]], float]:
        reads.append(after)
        return page_of(sorted((at, ref) for ref, at in instants.items() if at >= after), limit)

    wheel = TimerWheel(pager, page_size=3, lead=120.0)
    lookup = exact(instants)
    assert wheel.pop_due(T, lookup, 100) == []  # type: ignore[arg-type]
    assert len(wheel) < 5
    assert len(reads) == 1
    wheel.add(T + 39 * 600.0 + 1, 99)  # beyond the pages read: left to the pager
    instants[99] = T + 39 * 600.0 + 1
    assert len(wheel) < 5
    fired: list[int] = []
    now = T
    while now <= T + 41 * 600.0:
        fired += wheel.pop_due(now, lookup, 100)  # type: ignore[arg-type]
        now += 30.0
    assert fired == [*range(1, 40), 99, 40]
    assert wheel.next_at() is None


def test_a_page_of_timers_at_one_instant_is_all_of_them() -> None:
    from services.scheduler.store import page_of

    entries = [(T, 1), (T, 2), (T, 3), (T + 1, 4)]
    page, end = page_of(entries, 2)
    assert page == [(T, 1), (T, 2), (T, 3)]
    assert T < end <= T + 1
    assert page_of(entries, 10) == (entries, float("inf"))
