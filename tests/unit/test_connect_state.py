"""A connect's OAuth ``state`` is judged by the console's keys alone, before any broker I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet, MultiFernet
from hypothesis import given
from hypothesis import strategies as st

from services.console.connect_pending import PENDING_LIFE, issued_here, mint_state

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OLD_KEY = Fernet(Fernet.generate_key())
KEYS = MultiFernet([OLD_KEY])


@pytest.mark.parametrize(
    ("later", "ours"),
    [
        (timedelta(0), True),
        (PENDING_LIFE - timedelta(seconds=1), True),
        (PENDING_LIFE + timedelta(seconds=1), False),
    ],
)
def test_a_minted_state_is_ours_for_the_pending_life_only(later: timedelta, ours: bool) -> None:
    state = mint_state(KEYS, NOW)
    assert state.isascii()
    assert issued_here(KEYS, state, NOW + later) is ours


def test_states_are_unique_and_another_keyring_s_are_not_ours() -> None:
    assert mint_state(KEYS, NOW) != mint_state(KEYS, NOW)
    other = MultiFernet([Fernet(Fernet.generate_key())])
    assert not issued_here(KEYS, mint_state(other, NOW), NOW)
    # A keyring that rotated in a new key still opens what its old key sealed.
    rotated = MultiFernet([Fernet(Fernet.generate_key()), OLD_KEY])
    assert issued_here(rotated, mint_state(KEYS, NOW), NOW)


@given(st.text(max_size=300))
def test_any_other_text_is_refused_without_raising(state: str) -> None:
    assert not issued_here(KEYS, state, NOW)
