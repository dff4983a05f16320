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


# Below Linux's ephemeral range (32768-60999), where every outgoing connection takes a port and
# could take the broker's before it binds; and clear of the project's fixed ports (29092, ...).
LOW, HIGH = 21_000, 28_900


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive free ports (broker.sh and cluster.sh number their
    listeners from one base port)."""
    for _ in range(200):
        base = random.randrange(LOW, HIGH - count)
        if all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free loopback ports between {LOW} and {HIGH}")
