"""The sandbox's authorization servers answer in each platform's own shapes and refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sandbox.oauth import TokenAuthority, s256
from shared.capabilities import capabilities_for
from tests.unit.token_world import Clock


def _authority(platform: str, ttl: float | None = None) -> tuple[TokenAuthority, Clock]:
    clock = Clock()
    return TokenAuthority(platform, clock, access_ttl_s=ttl), clock


def _client(platform: str) -> dict[str, str]:
    return {"client_key": "app"} if platform == "tiktok" else {"client_id": "app"}


def _refresh(authority: TokenAuthority, token: str) -> tuple[int, dict[str, Any]]:
    return authority.token(
        {**_client(authority.platform), "grant_type": "refresh_token", "refresh_token": token}
    )


@pytest.mark.parametrize(
    ("platform", "life", "rotates"), [("x", 7200, True), ("youtube", 3600, False), ("tiktok", 7200, True)]
)
def test_lifetimes_and_rotation_follow_the_capability_table(platform: str, life: int, rotates: bool) -> None:
    rules = capabilities_for(platform).tokens
    assert rules is not None
    assert (rules.access_s, rules.rotates) == (life, rotates)
    assert rules.source.startswith("https://")
    authority, clock = _authority(platform)
    first = authority.mint("acct", client_id="app")
    assert first["expires_in"] == life
    clock.advance(seconds=life)
    assert authority.account_for(first["access_token"]) is None  # expired at expires_in
    status, again = _refresh(authority, first["refresh_token"])
    assert status == 200
    assert authority.account_for(again["access_token"]) == "acct"
    assert ("refresh_token" in again) is rotates  # Google answers no new refresh token
    status, _ = _refresh(authority, first["refresh_token"])
    assert (status == 200) is (not rotates)  # a rotated-away refresh token stops working


def test_the_sandbox_ttl_shortens_every_access_token() -> None:
    authority, clock = _authority("tiktok", ttl=20)
    grant = authority.mint("acct", client_id="app")
    assert grant["expires_in"] == 20
    assert grant["refresh_expires_in"] == 180 * 24 * 3600
    clock.advance(seconds=20)
    assert authority.account_for(grant["access_token"]) is None


@pytest.mark.parametrize(
    ("platform", "error"),
    [("x", "invalid_request"), ("youtube", "invalid_grant"), ("tiktok", "invalid_grant")],
)
def test_a_revoked_grant_is_refused_in_the_platforms_words(platform: str, error: str) -> None:
    authority, _ = _authority(platform)
    grant = authority.mint("acct", client_id="app")
    authority.revoke_token(grant["access_token"])
    status, body = _refresh(authority, grant["refresh_token"])
    assert (status, body["error"]) == (400, error)
    assert authority.account_for(grant["access_token"]) is None


def test_a_code_needs_its_verifier_its_redirect_and_is_good_once() -> None:
    authority, clock = _authority("x")
    verifier = "v" * 50
    query = {"client_id": "app", "redirect_uri": "http://127.0.0.1:1/cb", "code_challenge": s256(verifier)}
    form = {"client_id": "app", "grant_type": "authorization_code", "redirect_uri": query["redirect_uri"]}
    code = authority.authorize(query, "acct")
    assert authority.token({**form, "code": code, "code_verifier": "w" * 50})[0] == 400
    code = authority.authorize(query, "acct")
    assert authority.token({**form, "code": code, "code_verifier": verifier})[0] == 200
    assert authority.token({**form, "code": code, "code_verifier": verifier})[0] == 400  # used
    code = authority.authorize(query, "acct")
    clock.advance(minutes=11)
    assert authority.token({**form, "code": code, "code_verifier": verifier})[0] == 400  # expired


def test_a_refresh_token_is_bound_to_its_client() -> None:
    authority, _ = _authority("youtube")
    grant = authority.mint("acct", client_id="app")
    status, body = authority.token(
        {"client_id": "other", "grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    )
    assert (status, body["error"]) == (400, "invalid_grant")


def test_an_expired_tiktok_refresh_token_is_refused() -> None:
    authority, clock = _authority("tiktok")
    grant = authority.mint("acct", client_id="app")
    clock.advance(days=181)
    status, body = _refresh(authority, grant["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert timedelta(days=180).total_seconds() == grant["refresh_expires_in"]


def test_linkedin_refreshes_keep_the_first_consents_year_and_answer_the_same_refresh_token() -> None:
    authority, clock = _authority("linkedin", ttl=20)
    grant = authority.mint("acct", client_id="app")
    assert grant["expires_in"] == 20
    assert grant["refresh_token_expires_in"] == 365 * 24 * 3600
    clock.advance(days=59)
    status, again = _refresh(authority, grant["refresh_token"])
    assert status == 200
    assert again["refresh_token"] == grant["refresh_token"]  # not rotated
    assert again["refresh_token_expires_in"] == (365 - 59) * 24 * 3600  # the year does not restart
    assert authority.account_for(again["access_token"]) == "acct"
    clock.advance(days=307)
    assert _refresh(authority, grant["refresh_token"])[1]["error"] == "invalid_grant"


def test_linkedin_takes_a_code_without_pkce() -> None:
    authority, _ = _authority("linkedin")
    query = {"client_id": "app", "redirect_uri": "http://127.0.0.1:1/cb"}
    code = authority.authorize(query, "acct")
    form = {"client_id": "app", "grant_type": "authorization_code", "redirect_uri": query["redirect_uri"]}
    status, body = authority.token({**form, "code": code})
    assert status == 200
    assert "refresh_token" in body


def test_a_mastodon_instance_serves_registered_apps_only_and_its_tokens_never_expire() -> None:
    authority, clock = _authority("mastodon", ttl=20)  # the sandbox's TTL leaves them alone
    status, body = authority.register_app({"client_name": "Warta", "redirect_uris": "not a uri"})
    assert (status, body["error"]) == (422, "Validation failed: Redirect URI must be an absolute URI.")
    redirect = "http://127.0.0.1:1/cb"
    form = {"grant_type": "authorization_code", "redirect_uri": redirect}
    status, body = authority.token({**form, "client_id": "unregistered", "code": "x"})
    assert (status, body["error"]) == (401, "invalid_client")
    status, app = authority.register_app(
        {"client_name": "Warta", "redirect_uris": redirect, "scopes": "read"}
    )
    assert status == 200
    assert {"client_id", "client_secret", "redirect_uris"} <= set(app)
    verifier = "v" * 50
    query = {"client_id": app["client_id"], "redirect_uri": redirect, "code_challenge": s256(verifier)}
    code = authority.authorize(query, "acct")
    status, token = authority.token(
        {**form, "client_id": app["client_id"], "code": code, "code_verifier": verifier}
    )
    assert status == 200
    assert "expires_in" not in token
    assert "refresh_token" not in token
    clock.advance(days=400)
    assert authority.account_for(token["access_token"]) == "acct"
    authority.revoke_token(token["access_token"])
    assert authority.account_for(token["access_token"]) is None
