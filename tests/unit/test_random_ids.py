"""Ingest's random ids (content ids without an Idempotency-Key, event ids, draft ids)."""

from __future__ import annotations

import os

from services.ingest.http_api import _RANDOM, _random_id


def test_random_ids_are_hex_of_the_asked_length_and_never_repeat_even_across_a_fork() -> None:
    ids = [_random_id(32) for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(_random_id(24)) == 24
    parent_next = _RANDOM._pool[_RANDOM._at : _RANDOM._at + 16]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first id must not be the parent's next bytes
        os.write(write, bytes.fromhex(_random_id(32)))
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) != parent_next
