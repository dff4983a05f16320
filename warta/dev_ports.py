"""Ports for a local system: free ones to move to, and whether a fixed one is taken."""

from __future__ import annotations

import random
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (SO_REUSEADDR, as aiohttp binds: a port
    left in TIME_WAIT by a stopped server counts as free)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_listen_port(span: int = 1, low: int = 20000, high: int = 32000) -> int:
    """A port P with P .. P+span-1 free, below the kernel's ephemeral range (a broker: span 2,
    its KRaft controller listens on P+1).

    A server that is killed or stopped and started again must get its port back. An ephemeral
    port (what ``free_port`` returns) can meanwhile be taken by an outgoing connection: clients
    reconnecting to a stopped server on 127.0.0.1 even connect to themselves on it (TCP
    simultaneous open). The chaos run lost its broker that way: bind failed on every restart.
    """
    candidates = range(low, high - span + 1, span)
    for port in random.Random().sample(candidates, min(200, len(candidates))):
        sockets = [socket.socket() for _ in range(span)]
        try:
            for k, sock in enumerate(sockets):
                sock.bind(("127.0.0.1", port + k))
            return port
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise OSError(f"no {span} free ports in a row between {low} and {high}")
