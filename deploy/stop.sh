#!/usr/bin/env bash
# Stops everything `make run`, `make test` or `make bench` may have left running from this
# checkout: every broker whose data lives under var/ (the local one, the test session's, those
# of benchmarks and integration tests interrupted before their cleanup) and the test WordPress
# with its MariaDB. Only processes recorded in pid files under var/ are touched, so another
# checkout's broker or site on this machine is left alone.
#
#   deploy/stop.sh          (`make stop`)
#
# Environment: WARTA_VAR (default <repo>/var).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
var="${WARTA_VAR:-$root/var}"
[ -d "$var" ] || { echo "stop: nothing under $var"; exit 0; }

# broker.sh keeps its pid in <WARTA_VAR>/kafka-<port>/broker.pid; cluster.sh's nodes likewise.
while IFS= read -r -d '' pidfile; do
    home="$(dirname "$pidfile")"
    KAFKA_PORT="${home##*/kafka-}" WARTA_VAR="$(dirname "$home")" "$root/deploy/kafka/broker.sh" stop ||
        echo "stop: could not stop the broker of $home" >&2
done < <(find "$var" -maxdepth 5 -path '*/kafka-*/broker.pid' -print0)

WARTA_VAR="$var" "$root/deploy/wordpress/setup.sh" stop
