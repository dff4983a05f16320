"""A token endpoint's odd answer costs its own account one try, never the accounts after it.

The endpoints are the sandbox's own authorization servers (X rotates its refresh token on every
refresh), with fields of the answer replaced after the authority has answered, as a platform that
changed a field's type would; the refresher runs its scheduled pass (``tick``) on a test clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.publisher.credentials.refresher import Refresher
from shared.credentials import GrantUnreadable, RefreshTemporary
from shared.credentials.token_client import MAX_LIFETIME_S, AppCredentials, Grant, answer, refresh_form
from tests.unit.token_world import World


@dataclass
class OddEndpoints:
    """The world's token endpoints; ``patch[platform]`` is merged into that platform's answers
    and ``broken`` platforms raise a plain bug instead of answering."""

    world: World
    patch: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    asked: Counter[str] = field(default_factory=Counter)

    async def __call__(self, platform: str, url: str, app: AppCredentials, refresh_token: str) -> Grant:
        self.asked[platform] += 1
        if platform in self.broken:
            raise ValueError("a bug on the way to the token endpoint")
        form, _ = refresh_form(platform, app, refresh_token)
        status, body = self.world.authorities[platform].token(form)
        return answer(status, {**body, **self.patch.get(platform, {})})


def _world(tmp_path: Path) -> tuple[World, OddEndpoints, Refresher]:
    world = World(tmp_path, platforms=("x", "tiktok"))
    endpoints = OddEndpoints(world)
    return world, endpoints, Refresher(world.vault, endpoints, world.clock)


@pytest.mark.parametrize(
    "odd",
    [
        {"expires_in": 1e300},  # a timedelta no datetime can add
        {"expires_in": "soon"},
        {"expires_in": -7200},
        {"expires_in": True},
        {"expires_in": MAX_LIFETIME_S + 1},
    ],
)
async def test_an_unreadable_grant_is_a_failure_of_its_account_alone_and_its_rotation_is_kept(
    tmp_path: Path, odd: dict[str, Any]
) -> None:
    world, endpoints, refresher = _world(tmp_path)
    before = world.vault.fresh("x-demo")
    assert before is not None
    world.clock.advance(hours=2)  # both due
    endpoints.patch["x"] = odd
    await refresher.tick(["x-demo", "tiktok-demo"])
    assert refresher.refreshes == Counter({"tiktok": 1})
    assert refresher.failures == Counter({"x": 1})
    kept = world.new_vault().fresh("x-demo")
    assert kept is not None
    # The old access token and its expiry stay; the refresh token X rotated to is stored.
    assert (kept.access_token, kept.expires_at, kept.status) == (
        before.access_token,
        before.expires_at,
        "connected",
    )
    assert kept.refresh_token != before.refresh_token
    # Once X answers plainly again, the stored refresh token is the live one: no park.
    endpoints.patch.clear()
    world.clock.advance(minutes=1)
    await refresher.tick(["x-demo", "tiktok-demo"])
    after = world.new_vault().fresh("x-demo")
    assert after is not None
    assert (after.status, refresher.refreshes["x"], refresher.parked["x"]) == ("connected", 1, 0)
    assert after.access_token != before.access_token


@pytest.mark.parametrize("scope", [5, {"tweet.write": True}, ["tweet.write", 5], None])
async def test_a_scope_of_another_shape_costs_only_the_scope(tmp_path: Path, scope: object) -> None:
    world, endpoints, refresher = _world(tmp_path)
    before = world.vault.fresh("x-demo")
    assert before is not None
    world.clock.advance(hours=2)
    endpoints.patch["x"] = {"scope": scope}
    await refresher.tick(["x-demo", "tiktok-demo"])
    assert refresher.refreshes == Counter({"x": 1, "tiktok": 1})
    after = world.vault.fresh("x-demo")
    assert after is not None
    assert after.scope == before.scope  # the record's scope, where the answer's cannot be read


async def test_an_account_whose_refresh_raises_never_stops_the_accounts_after_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world, endpoints, refresher = _world(tmp_path)
    world.clock.advance(hours=2)
    endpoints.broken.add("x")
    await refresher.tick(["x-demo", "tiktok-demo"])
    assert (refresher.refreshes, refresher.failures) == (Counter({"tiktok": 1}), Counter({"x": 1}))
    assert "refresh of x-demo failed" in caplog.text
    # It waits like any failed refresh rather than going first at every pass.
    await refresher.tick(["x-demo", "tiktok-demo"])
    assert endpoints.asked["x"] == 1


def test_a_grant_is_read_as_someone_elses_json() -> None:
    plain = {"access_token": "a", "refresh_token": "r", "token_type": "bearer"}
    grant = answer(200, {**plain, "expires_in": "7200", "scope": ["tweet.read", "tweet.write"]})
    assert (grant.expires_in, grant.scope) == (7200.0, "tweet.read tweet.write")
    assert answer(200, {**plain, "expires_in": 7199.5}).expires_in == 7199.5
    assert answer(200, plain).expires_in is None  # Mastodon: a token without expiry
    odd_refresh_life = answer(200, {**plain, "expires_in": 60, "refresh_expires_in": 1e300})
    assert odd_refresh_life.refresh_expires_in is None  # that field alone is lost
    with pytest.raises(GrantUnreadable) as unreadable:
        answer(200, {**plain, "refresh_token": "rotated-secret", "expires_in": 1e300})
    assert unreadable.value.refresh_token == "rotated-secret"
    assert isinstance(unreadable.value, RefreshTemporary)
    assert "rotated-secret" not in f"{unreadable.value} {unreadable.value!r}"
    with pytest.raises(GrantUnreadable) as tokenless:
        answer(200, {"refresh_token": "r2", "expires_in": 60})
    assert tokenless.value.refresh_token == "r2"
