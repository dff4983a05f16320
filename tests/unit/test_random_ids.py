"""Random ids (event ids; content ids without an Idempotency-Key; draft ids): shared.ids."""

from __future__ import annotations

import os

from shared.ids import _POOL, new_event_id, random_hex


def test_random_ids_are_hex_of_the_asked_length_and_never_repeat_even_across_a_fork() -> None:
    ids = [new_event_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(random_hex(24)) == 24
    assert len(random_hex(7)) == 7
    parent_next = _POOL._pool[_POOL._at : _POOL._at + 16]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first id must not be the parent's next bytes
        os.write(write, bytes.fromhex(new_event_id()))
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) != parent_next
