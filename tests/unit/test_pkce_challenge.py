"""`warta channels connect` computes its PKCE challenge itself, not with the sandbox's code: the
RFC's own example judges it, and the sandbox's authorization server (written apart) agrees."""

from __future__ import annotations

import secrets

from sandbox.oauth import s256
from shared.credentials.oauth_flow import code_challenge


def test_the_challenge_is_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_sandbox_accepts_the_clients_challenge() -> None:
    for _ in range(50):
        verifier = secrets.token_urlsafe(48)
        assert code_challenge(verifier) == s256(verifier)
