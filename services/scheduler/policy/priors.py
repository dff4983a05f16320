"""What the engagement model assumes before a channel has history (model.py's ``P_b`` and
half-life), and how each calendar regime reshapes a channel's ordinary day."""

from __future__ import annotations

# Share of Indonesians online by local hour (Kominfo x Katadata 2021 anchors 19-21 h at 62.5 % and
# 07-10 h at 51 %, 24-05 h lowest; Populix: most intense 18:00-21:00). Weekends: later mornings.
_WEEKDAY = (0.14, 0.08, 0.05, 0.05, 0.09, 0.20, 0.33, 0.47, 0.51, 0.51, 0.45, 0.41,
            0.44, 0.42, 0.38, 0.38, 0.41, 0.46, 0.55, 0.625, 0.625, 0.57, 0.40, 0.24)  # fmt: skip
_WEEKEND = (0.18, 0.10, 0.06, 0.05, 0.07, 0.14, 0.24, 0.36, 0.45, 0.50, 0.50, 0.47,
            0.46, 0.44, 0.42, 0.42, 0.44, 0.48, 0.55, 0.62, 0.625, 0.59, 0.45, 0.28)  # fmt: skip

# Minutes until half of a post's reactions are in (§3.4): X 24 min and Facebook 1 h 42 min (Klout),
# Instagram ~1 h (Takumi). The rest are assumptions until a channel's own horizons correct them.
PLATFORM_HALF_LIFE_MINUTES = {
    "x": 24.0, "twitter": 24.0, "threads": 30.0, "mastodon": 30.0, "facebook": 102.0,
    "instagram": 60.0, "telegram": 60.0, "whatsapp": 60.0, "tiktok": 120.0, "youtube": 720.0,
    "website": 720.0,
}  # fmt: skip
DEFAULT_HALF_LIFE_MINUTES = 60.0
DEFAULT_CROWDING = 0.3  # share of audience a post loses to one just before it (assumption)

# How each calendar regime reshapes a channel's ordinary day, by local hour (a prior the regime's
# own posts correct). Ramadan: up for sahur before dawn (02-04 h), away at iftar (18 h) and tarawih
# (19-20 h), back online after it (21-23 h), quieter while fasting in the afternoon. Holidays:
# people sleep in and are out in the afternoon. School holidays: the young stay up later.
REGIME_HOURS: dict[str, tuple[float, ...]] = {
    "ramadan": (1.0, 1.2, 2.5, 3.5, 3.0, 1.2, 0.8, 0.8, 0.9, 0.9, 0.9, 0.9,
                0.9, 0.85, 0.8, 0.8, 0.8, 0.7, 0.45, 0.55, 0.75, 1.3, 1.5, 1.3),
    "holiday": (1.1, 1.1, 1.0, 1.0, 1.0, 0.8, 0.7, 0.7, 0.85, 1.1, 1.15, 1.15,
                1.1, 1.0, 0.95, 0.95, 0.95, 0.95, 1.0, 1.0, 1.05, 1.05, 1.1, 1.1),
    "school_holiday": (1.2, 1.1, 1.0, 1.0, 1.0, 0.9, 0.85, 0.9, 0.95, 1.05, 1.1, 1.05,
                       1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.2, 1.25),
}  # fmt: skip
# What a regime adds to every channel's day whatever its ordinary hours, as a share of the channel's
# busiest hour: Ramadan wakes nearly everyone for sahur and keeps them up after tarawih, so those
# hours are the month's peaks even for an audience never online at 03 h (its day "turns around";
# a multiplier alone would keep such a channel's Ramadan peak at its ordinary hours).
REGIME_LIFT: dict[str, tuple[float, ...]] = {
    "ramadan": (0.0, 0.1, 0.4, 0.6, 0.6, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.4, 0.5, 0.4),
}  # fmt: skip
# Share of the posterior variance a regime's model draws at: none. The regime's prior already says
# where its hours are likely to be (the channel's own day, reshaped and lifted), and where it
# overrates an hour the mean posts there and sees; draws spend the short month on hours it rates
# low (docs/scheduling.md, "a regime's model by its mean").
REGIME_THOMPSON_SHARE = 0.0


def national_prior() -> list[float]:
    """Relative audience activity by local hour-of-week, Monday 00:00 first."""
    prior: list[float] = []
    for day in range(7):
        prior.extend(_WEEKEND if day >= 5 else _WEEKDAY)
    return prior


# The national hours are an average over every Indonesian; one channel's audience may peak where
# that average is lowest (a late-night or a dawn audience). Taken at full contrast (12:1 between
# 19 h and 03 h) the prior keeps a channel from ever posting where its audience might be; its
# square root keeps the order of the hours at a contrast the channel's evidence can overturn
# (bench.adversarial, tuning half: mean capture 0.63 at full contrast, 0.77 at the square root).
PRIOR_CONTRAST = 0.5


def prior_shape() -> list[float]:
    """What a channel without history assumes: the national hours at PRIOR_CONTRAST."""
    return [x**PRIOR_CONTRAST for x in national_prior()]


def regime_prior(regime: str, base: list[float]) -> list[float]:
    """A calendar regime's starting hours for a channel whose ordinary hours are ``base`` (168,
    Monday 00:00 first): reshaped by REGIME_HOURS, and lifted by REGIME_LIFT of its busiest hour."""
    hours, lift, peak = REGIME_HOURS[regime], REGIME_LIFT.get(regime, (0.0,) * 24), max(base)
    return [max(x * hours[b % 24], peak * lift[b % 24]) for b, x in enumerate(base)]
