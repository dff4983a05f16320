"""When an audience moved: a change-point test over a channel's recent posts.

smooth.py's detector asks the last MOVE_POSTS posts, by their median, to earn under MOVE_RATIO of
what the fit expects, and dates the move at the first of them. At one post a day that is a week
after the move, and the date is wherever the window happens to start: traced on
bench.adversarial's shift worlds (tuning half), moves were seen 3-5 days after they happened and
dated up to two days before them, so posts at the old, still-good hours counted as the new
audience's evidence.

This test reads every split of the recent posts instead: for each run of the latest posts, how far
its mean log ratio to the fit sits under the earlier posts', in standard errors of the difference
(the earlier posts' spread: their items' quality and the counts' noise). Three misses (posts
under MOVE_RATIO of what the fit expects) of an audience that is gone are ~5 standard errors at
the adversarial worlds' quality spread; a lone weak item is not. The move is then dated at the
first of the misses in a row up to the latest post, when they are a run: the split that sits
furthest under can reach back over a weak item or two before the move, and the old audience's
good posts after it would count as the new one's (a lunchtime audience moving to dawn drawn with
bench.adversarial's sampler was dated six days early). Requiring the misses in a row to *see* the
move was tried as well: it waits for them, and on the tuning half's moved audiences (odd seeds
1-57, eight worlds) kept 0.53 of the oracle against 0.58 with the furthest split.
"""

from __future__ import annotations

import math
import statistics

from services.scheduler.policy.smooth import MOVE_RATIO

CHANGE_MIN_RUN = 3  # fewer posts cannot tell a move from two weak items
CHANGE_MAX_RUN = 12  # about two weeks of a channel posting once a day
CHANGE_MIN_BEFORE = 6  # the earlier posts' spread needs a few of them
_MIN_SPREAD = 0.3  # log units: a run of similar items must not make every dip significant


def change_point(times: list[int], ratios: list[float], after: int | None, z: float) -> int | None:
    """When the audience moved, by the latest posts; None when they do not say so. Only posts
    from ``after`` on count; ``ratios`` are each post's reactions over what the fit expects, in
    ``times``' order.

    A move is seen when a run of the latest posts (CHANGE_MIN_RUN to CHANGE_MAX_RUN up to the
    latest) starts with a miss (under MOVE_RATIO), misses by its median and sits ``z`` standard
    errors or more under the earlier posts. It is dated at the first of the misses in a row up to
    the latest post when there are CHANGE_MIN_RUN of them, else at the run that sits furthest under.
    """
    posts = sorted((t, r) for t, r in zip(times, ratios, strict=True) if after is None or t >= after)
    split = _furthest_under(posts, z)
    if split is None:
        return None
    misses = len(posts)
    while misses > split and posts[misses - 1][1] < MOVE_RATIO:
        misses -= 1
    return posts[misses][0] if len(posts) - misses >= CHANGE_MIN_RUN else posts[split][0]


def _furthest_under(posts: list[tuple[int, float]], z: float) -> int | None:
    """Where the run of the latest posts that sits furthest under the earlier ones starts, when
    that is ``z`` standard errors or more, it starts with a miss and misses by its median."""
    logs = [math.log(max(r, 1e-6)) for _, r in posts]
    best, best_gap = None, z
    for start in range(max(CHANGE_MIN_BEFORE, len(posts) - CHANGE_MAX_RUN), len(posts) - CHANGE_MIN_RUN + 1):
        if posts[start][1] >= MOVE_RATIO:
            continue  # a move is dated at a miss, not at a good post before it
        gap = _gap(logs[:start], logs[start:])
        if gap >= best_gap and statistics.median(r for _, r in posts[start:]) < MOVE_RATIO:
            best, best_gap = start, gap
    return best


def _gap(before: list[float], run: list[float]) -> float:
    """How many standard errors the run's mean sits under the earlier posts' mean."""
    spread = max(statistics.stdev(before), _MIN_SPREAD)
    error = spread * math.sqrt(1 / len(run) + 1 / len(before))
    return (statistics.fmean(before) - statistics.fmean(run)) / error
