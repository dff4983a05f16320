#!/usr/bin/env bash
# Run a three-node Apache Kafka 4.x KRaft cluster on loopback: each node is a broker and one of
# three controller voters, so the cluster keeps serving (and a quorum keeps electing leaders)
# with any one node down. Topics get replication 3 and min.insync.replicas 2 by default, the
# shape Warta runs in production (README.md, "Kafka in production").
#
#   deploy/kafka/cluster.sh start      start the three nodes (formatting their storage once), wait for all
#   deploy/kafka/cluster.sh stop       stop every node cleanly
#   deploy/kafka/cluster.sh status     exit 0 when every node serves
#   deploy/kafka/cluster.sh kill N     SIGKILL node N (1-3): a crash, for failure drills
#   deploy/kafka/cluster.sh bootstrap  print the bootstrap servers (host:port,host:port,host:port)
#
# Settings (environment): KAFKA_CLUSTER_PORT (39092): node N serves clients on
# KAFKA_CLUSTER_PORT + 2(N-1) and its controller on the next port; KAFKA_HEAP (512m per node);
# WARTA_VAR, KAFKA_LIBS as for broker.sh; KAFKA_REPLICATION (3), KAFKA_MIN_ISR (2). The TLS and
# SASL settings of broker.sh apply to every node when set.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
var="${WARTA_VAR:-$root/var}"
base="${KAFKA_CLUSTER_PORT:-39092}"
nodes=(1 2 3)

client_port() { echo $((base + 2 * ($1 - 1))); }
controller_port() { echo $(($(client_port "$1") + 1)); }

voters() {
  local out=() n
  for n in "${nodes[@]}"; do out+=("$n@127.0.0.1:$(controller_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

bootstrap() {
  local out=() n
  for n in "${nodes[@]}"; do out+=("127.0.0.1:$(client_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

cluster_id() {
  # Every node's storage must be formatted with the same cluster id; it is kept beside them.
  local file="$var/kafka-cluster-$base.id"
  if [ ! -s "$file" ]; then
    mkdir -p "$var"
    java -cp "${KAFKA_LIBS:-$root/var/kafka-libs-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")}/*" \
      kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$file"
  fi
  cat "$file"
}

node() {
  local n="$1"
  shift
  KAFKA_NODE_ID="$n" KAFKA_PORT="$(client_port "$n")" KAFKA_CONTROLLER_PORT="$(controller_port "$n")" \
    KAFKA_QUORUM_VOTERS="$(voters)" KAFKA_CLUSTER_ID="$CLUSTER_ID" WARTA_VAR="$var" \
    KAFKA_REPLICATION="${KAFKA_REPLICATION:-3}" KAFKA_MIN_ISR="${KAFKA_MIN_ISR:-2}" \
    KAFKA_HEAP="${KAFKA_HEAP:-512m}" "$here/broker.sh" "$@"
}

start() {
  "$here/broker.sh" fetch
  CLUSTER_ID="$(cluster_id)"
  local n
  for n in "${nodes[@]}"; do node "$n" launch; done
  for n in "${nodes[@]}"; do node "$n" wait; done
  echo "cluster.sh: three nodes serving; bootstrap $(bootstrap)"
}

status() {
  CLUSTER_ID=""
  local n
  for n in "${nodes[@]}"; do node "$n" status || return 1; done
}

stop() {
  # All at once: a node stopped after the others would wait in vain for a controller quorum
  # to approve its controlled shutdown.
  CLUSTER_ID=""
  local n pids=() status=0
  for n in "${nodes[@]}"; do node "$n" stop & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || status=1; done
  return $status
}

kill_node() {
  local n="${1:-}"
  [[ "$n" =~ ^[123]$ ]] || { echo "cluster.sh: kill takes a node number, 1-3" >&2; exit 2; }
  local pidfile
  pidfile="$var/kafka-$(client_port "$n")/broker.pid"
  [ -f "$pidfile" ] || { echo "cluster.sh: node $n is not running" >&2; exit 1; }
  kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
  echo "cluster.sh: node $n killed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill) kill_node "${2:-}" ;;
  bootstrap) bootstrap ;;
  *) echo "usage: $0 start|stop|status|kill N|bootstrap" >&2; exit 2 ;;
esac
