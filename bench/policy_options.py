"""The policy's options a bench compares, as command-line flags: its daily shape, how it explores
(``Exploring``), the model's own settings (``Knobs``) and the ceiling (``--truth-from-day``).

``bench.slots``, ``bench.worldgen`` and ``bench.adversarial`` take the same flags, so that a row of
docs/scheduling.md is one command on any of them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.library_learner import LIBRARIES, MOVES
from services.scheduler.policy.explore import Exploring
from services.scheduler.policy.model import DEFAULT_SHAPE, SHAPES


@dataclass(frozen=True)
class Knobs:
    """The model's own settings a bench run may change (None: the model's defaults): the days of
    deliberate exploration, the share of the posterior variance Thompson draws at, the prior's
    weight on whole audience shapes (policy/shapes.py), the share of it the deployment's other
    channels hold (policy/siblings.py); which draw of the policy's and the
    observations' randomness the run takes (0: the world's own); whether a ceiling's truth is
    its best fit in the smooth family (``--truth-family``); and a reference learner over a library
    of audiences in place of the model (``--library-learner``, bench/library_learner.py)."""

    explore_days: float | None = None
    thompson_share: float | None = None
    shapes_weight: float | None = None
    pool_weight: float | None = None
    draw: int = 0
    truth_family: bool = False
    library: str | None = None
    library_move: str = "known"


DEFAULT_KNOBS = Knobs()  # every setting the model's own

# (flag, Exploring's field, help); a flag left out keeps the model's default
_EXPLORING = (
    (
        "--reexplore-days",
        "reexplore_days",
        "days of exploring again after a move (policy/explore.py; 0 never)",
    ),
    (
        "--explore-gate",
        "gate_z",
        "try only untried hours whose posterior reaches the best hour within this many sd (0 all)",
    ),
    (
        "--explore-spread",
        "spread",
        "raise an untried hour by this share per hour from the nearest trial's start (0: all alike)",
    ),
    (
        "--explore-worth",
        "worth",
        "choose trials by what they could gain, over this share of the posts ahead (0: off)",
    ),
    (
        "--explore-gradient",
        "gradient",
        "choose trials by their knowledge gradient, over this share of the posts ahead (0: off)",
    ),
    (
        "--change-z",
        "change_z",
        "date moves by policy/change.py's change-point test at this many standard errors (0: median test)",
    ),
    ("--moved-weight", "moved_weight", "what the posts before a dated move still weigh in the fit"),
)
_KNOBS = (
    (
        "--explore-days",
        "explore_days",
        "days of deliberate exploration from a channel's first post (0 none; default the shape's)",
    ),
    (
        "--thompson-share",
        "thompson_share",
        "share of the posterior variance the Thompson draws take (0 greedy; default the shape's;"
        " a calendar regime's model always takes its mean)",
    ),
    (
        "--shapes-weight",
        "shapes_weight",
        "the smooth prior's weight on whole audience shapes (policy/shapes.py; 0: its broad prior alone)",
    ),
    (
        "--pool-weight",
        "pool_weight",
        "the smooth prior's share held by the world's other channels' learned hours (policy/siblings.py; 0: none)",
    ),
)


def policy_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the policy's flags to ``parser``; read them back with ``exploring_of`` and ``knobs_of``."""
    parser.add_argument("--shape", choices=SHAPES, default=DEFAULT_SHAPE, help="the model's daily shape")
    for flag, field, text in (*_EXPLORING, *_KNOBS):
        parser.add_argument(flag, dest=field, type=float, default=None, help=text)
    parser.add_argument(
        "--draw",
        type=int,
        default=0,
        help="another draw of the policy's and the observations' randomness (0: the world's own); "
        "one world's capture moves by several points between draws, so compare settings over many",
    )
    parser.add_argument(
        "--truth-from-day",
        type=float,
        default=None,
        help="the ceiling: from this day of the world (0: all along) each model knows its channel's truth",
    )
    parser.add_argument(
        "--truth-family",
        action="store_true",
        help="with --truth-from-day: the truth known is its best fit in the smooth model's family"
        " (bench/truth_model.py's in_family), so that the family's own cost is measured apart",
    )
    parser.add_argument(
        "--library-learner",
        choices=LIBRARIES,
        default=None,
        help="not the policy's model: a Bayes learner over a library of audiences (generator: the ones"
        " bench.adversarial draws from), to measure how far learning can go (bench/library_learner.py)",
    )
    parser.add_argument(
        "--library-move",
        choices=MOVES,
        default="known",
        help="with --library-learner: whether it is told the instant a shift world's audience moves",
    )


def knobs_of(args: argparse.Namespace) -> Knobs:
    """The model's own settings ``policy_arguments`` asked for."""
    given = {field: getattr(args, field) for _, field, _ in _KNOBS}
    return Knobs(
        **given,
        draw=args.draw,
        truth_family=args.truth_family,
        library=args.library_learner,
        library_move=args.library_move,
    )


def exploring_of(args: argparse.Namespace) -> Exploring | None:
    """The model's ``exploring`` that ``policy_arguments`` asked for; None: the model's defaults."""
    given = {field: getattr(args, field) for _, field, _ in _EXPLORING if getattr(args, field) is not None}
    return Exploring(**given) if given else None
