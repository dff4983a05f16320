"""Random ids for events and items: hex from os.urandom, fetched 4 KiB at a time.

A getrandom() call costs ~3 µs on these machines, and ingest needs two ids per accepted item
(uuid4().hex cost 1.7 µs each alone, more under load). Each byte is handed out once. Services run
one event loop per process, so no lock; a forked child forgets the parent's pool.
"""

from __future__ import annotations

import os


class RandomPool:
    def __init__(self, pool_bytes: int = 4096) -> None:
        self._size = pool_bytes
        self._pool = b""
        self._at = 0

    def forget(self) -> None:
        self._pool, self._at = b"", 0

    def take(self, n: int) -> bytes:
        if self._at + n > len(self._pool):
            self._pool, self._at = os.urandom(max(self._size, n)), 0
        chunk = self._pool[self._at : self._at + n]
        self._at += n
        return chunk


_POOL = RandomPool()
os.register_at_fork(after_in_child=_POOL.forget)


def random_hex(chars: int) -> str:
    """``chars`` hex digits of fresh randomness (32 carry 128 bits, as many as a uuid4)."""
    return _POOL.take((chars + 1) // 2).hex()[:chars]


def new_event_id() -> str:
    return random_hex(32)
