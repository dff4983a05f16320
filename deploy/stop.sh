#!/usr/bin/env bash
# Stops everything `make run`, `make test` or `make bench` may have left running from this
# checkout: Warta's own processes of a `warta dev` or a test system that was killed outright
# (warta/devrun.py keeps their pid files under var/), every broker whose data lives under var/
# (the local one, the test session's, those of benchmarks and integration tests interrupted
# before their cleanup) and the test WordPress with its MariaDB. Only processes recorded in pid files under var/ are touched, so another
# checkout's broker or site on this machine is left alone.
#
#   deploy/stop.sh          (`make stop`)
#
# Environment: WARTA_VAR (default <repo>/var).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
var="${WARTA_VAR:-$root/var}"
[ -d "$var" ] || { echo "stop: nothing under $var"; exit 0; }

# Warta's processes first (they would only reconnect to a stopping broker). Each leads its own
# process group; a pid file whose process is gone, or whose pid now belongs to another program,
# is only removed.
while IFS= read -r -d '' pidfile; do
    pid="$(cat "$pidfile")"
    if grep -qa 'warta.cli' "/proc/$pid/cmdline" 2> /dev/null; then
        kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
        for _ in $(seq 1 200); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2> /dev/null && kill -KILL -- "-$pid" 2> /dev/null
        echo "stop: stopped $(basename "$pidfile" .pid) ($pid)"
    fi
    rm -f "$pidfile"
done < <(find "$var" -maxdepth 5 -path '*/pids/*.pid' -print0)

# broker.sh keeps its pid in <WARTA_VAR>/kafka-<port>/broker.pid; cluster.sh's nodes likewise.
while IFS= read -r -d '' pidfile; do
    home="$(dirname "$pidfile")"
    KAFKA_PORT="${home##*/kafka-}" WARTA_VAR="$(dirname "$home")" "$root/deploy/kafka/broker.sh" stop ||
        echo "stop: could not stop the broker of $home" >&2
done < <(find "$var" -maxdepth 5 -path '*/kafka-*/broker.pid' -print0)

WARTA_VAR="$var" "$root/deploy/wordpress/setup.sh" stop
