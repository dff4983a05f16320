"""Ports for servers that are restarted during a run stay out of the kernel's ephemeral range."""

from __future__ import annotations

import socket

from warta.devrun import free_listen_port


def _ephemeral_low() -> int:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        return int(f.read().split()[0])


def test_a_broker_gets_two_free_ports_in_a_row_below_the_ephemeral_range() -> None:
    port = free_listen_port(span=2)
    assert port + 1 < _ephemeral_low()
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", port))
        b.bind(("127.0.0.1", port + 1))


def test_a_taken_port_is_skipped() -> None:
    taken = free_listen_port(span=3)
    with socket.socket() as held:
        held.bind(("127.0.0.1", taken))
        for _ in range(20):
            assert free_listen_port(low=taken, high=taken + 3) in (taken + 1, taken + 2)
