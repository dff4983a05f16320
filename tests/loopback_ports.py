"""Free loopback ports for brokers a test starts itself (never the shared ones: 9092, 19092, 29092)."""

from __future__ import annotations

import random
import socket


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive free ports (broker.sh and cluster.sh number their
    listeners from one base port). Another process may still take one before the broker binds
    it; broker.sh then says which."""
    for _ in range(200):
        base = random.randrange(40_000, 60_000 - count)
        if all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free loopback ports between 40000 and 60000")
