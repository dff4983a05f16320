#!/usr/bin/env bash
# Provision and run one Apache Kafka 4.x node (broker + KRaft controller) on loopback.
#
#   deploy/kafka/broker.sh start    resolve jars (once), format storage (once), start, wait until it serves
#   deploy/kafka/broker.sh stop     stop it cleanly (SIGTERM, then wait for the controlled shutdown)
#   deploy/kafka/broker.sh status   exit 0 when running and answering
#   deploy/kafka/broker.sh launch|wait   the two halves of start (start in the background; wait)
#   deploy/kafka/broker.sh fetch    only resolve the jars from Maven Central
#
# Settings (environment): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1),
# WARTA_VAR (var/ at the repository root; git-ignored), KAFKA_LIBS (jar folder), KAFKA_HEAP (1g).
# Re-running any command is safe.
#
# Opt-in, for a node of a cluster (deploy/kafka/cluster.sh sets them):
#   KAFKA_NODE_ID (1), KAFKA_QUORUM_VOTERS (id@host:port,... ; this node alone by default),
#   KAFKA_CLUSTER_ID (one id shared by every node; random when unset), KAFKA_REPLICATION and
#   KAFKA_MIN_ISR (1 and 1: the replication of the broker's own topics and its defaults).
# Opt-in, for a SASL_SSL listener (TLS, SCRAM-SHA-512) instead of PLAINTEXT on KAFKA_PORT:
#   KAFKA_SSL_KEYSTORE    PEM file: the broker's unencrypted PKCS#8 key, its certificate and the chain
#   KAFKA_SSL_TRUSTSTORE  PEM file: the CA that signed the brokers' certificates
#   KAFKA_BROKER_USER, KAFKA_BROKER_PASSWORD   the brokers' own SCRAM user (inter-broker traffic)
#   KAFKA_SCRAM_USERS_FILE  lines "name=password": client users created when storage is formatted
#   The controller listener stays PLAINTEXT on loopback; in production put it on a private
#   network or give it TLS too (README.md, "Kafka in production").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
var="${WARTA_VAR:-$root/var}"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
home="$var/kafka-$port"
libs="${KAFKA_LIBS:-$root/var/kafka-libs-$kafka_version}"
pidfile="$home/broker.pid"
node_id="${KAFKA_NODE_ID:-1}"
voters="${KAFKA_QUORUM_VOTERS:-$node_id@127.0.0.1:$cport}"
replication="${KAFKA_REPLICATION:-1}"
min_isr="${KAFKA_MIN_ISR:-1}"
log="$home/logs/server.out"

die() { echo "broker.sh: $*" >&2; exit 1; }

need_tools() {
  command -v java >/dev/null 2>&1 || die "java not found: install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null 2>&1 || [ -f "$libs/.complete" ] || die "mvn not found: install Apache Maven (Debian: apt-get install maven) so the broker jars can be resolved from Maven Central"
}

fetch() {
  [ -f "$libs/.complete" ] && return 0
  echo "broker.sh: resolving org.apache.kafka:kafka_2.13:$kafka_version from Maven Central into $libs"
  rm -rf "$libs.tmp"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs.tmp" -DincludeScope=runtime \
    || die "Maven could not resolve Kafka $kafka_version (is Maven Central reachable?)"
  touch "$libs.tmp/.complete"
  rm -rf "$libs" && mv "$libs.tmp" "$libs"
}

java_cmd() {
  # JVM flags follow Kafka's own kafka-run-class.sh defaults, scaled down for a laptop.
  exec java -Xms"${KAFKA_HEAP:-1g}" -Xmx"${KAFKA_HEAP:-1g}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$home/config/log4j2.properties" \
    -Dkafka.logs.dir="$home/logs" -cp "$libs/*" "$@"
}

listener_config() {
  if [ -z "${KAFKA_SSL_KEYSTORE:-}" ]; then
    cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
PROPS
    return 0
  fi
  [ -f "$KAFKA_SSL_KEYSTORE" ] || die "KAFKA_SSL_KEYSTORE: no such file: $KAFKA_SSL_KEYSTORE"
  [ -f "${KAFKA_SSL_TRUSTSTORE:-}" ] || die "KAFKA_SSL_TRUSTSTORE must name the CA's PEM file"
  [ -n "${KAFKA_BROKER_USER:-}" ] && [ -n "${KAFKA_BROKER_PASSWORD:-}" ] \
    || die "a SASL_SSL listener needs KAFKA_BROKER_USER and KAFKA_BROKER_PASSWORD"
  # Kafka 4 reads PEM key stores directly, so no keytool/JKS step is needed.
  cat <<PROPS
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=SASL_SSL://127.0.0.1:$port
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_BROKER_USER" password="$KAFKA_BROKER_PASSWORD";
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_SSL_KEYSTORE
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_SSL_TRUSTSTORE
ssl.endpoint.identification.algorithm=https
PROPS
}

write_config() {
  mkdir -p "$home/config" "$home/logs" "$home/data"
  # The file may hold the brokers' SCRAM password: readable by its owner only.
  (umask 077 && listener_config >"$home/config/listeners.properties")
  (umask 077 && cat >"$home/config/server.properties" <<PROPS
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
$(cat "$home/config/listeners.properties")
log.dirs=$home/data
num.partitions=3
default.replication.factor=$replication
offsets.topic.replication.factor=$replication
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_isr
min.insync.replicas=$min_isr
# Topics are created by Warta's topic registry, with their own configs.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
PROPS
  )
  rm -f "$home/config/listeners.properties"
  cat >"$home/config/log4j2.properties" <<PROPS
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=FILE
appender.file.type=File
appender.file.name=FILE
appender.file.fileName=$home/logs/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
PROPS
}

scram_args() {
  # One --add-scram per user; the brokers' own user first. Only read when storage is formatted.
  [ -n "${KAFKA_SSL_KEYSTORE:-}" ] || return 0
  printf '%s\0' --add-scram "SCRAM-SHA-512=[name=$KAFKA_BROKER_USER,password=$KAFKA_BROKER_PASSWORD]"
  [ -n "${KAFKA_SCRAM_USERS_FILE:-}" ] || return 0
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    printf '%s\0' --add-scram "SCRAM-SHA-512=[name=${line%%=*},password=${line#*=}]"
  done <"$KAFKA_SCRAM_USERS_FILE"
}

format_storage() {
  [ -f "$home/data/meta.properties" ] && return 0
  local cluster_id="${KAFKA_CLUSTER_ID:-}"
  [ -n "$cluster_id" ] || cluster_id="$( (java_cmd kafka.tools.StorageTool random-uuid) | tail -n 1)"
  local scram=()
  while IFS= read -r -d '' arg; do scram+=("$arg"); done < <(scram_args)
  (java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$home/config/server.properties" "${scram[@]}") \
    >"$home/logs/format.out" 2>&1 \
    || { cat "$home/logs/format.out" >&2; die "formatting KRaft storage failed"; }
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
serving() { running && port_open && grep -q "Kafka Server started" "$home/logs/server.log" 2>/dev/null; }

launch() {
  need_tools
  fetch
  if serving; then echo "broker.sh: Kafka $kafka_version already serving on 127.0.0.1:$port"; return 0; fi
  running && stop
  port_open && die "port $port is taken by another process; set KAFKA_PORT"
  write_config
  format_storage
  : >"$home/logs/server.log"
  nohup "$BASH" -c "$(declare -f java_cmd); home='$home' libs='$libs'; java_cmd kafka.Kafka '$home/config/server.properties'" \
    >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

wait_serving() {
  local t0=$SECONDS
  for _ in $(seq 1 600); do
    serving && { echo "broker.sh: Kafka $kafka_version serving on 127.0.0.1:$port (ready after $((SECONDS - t0))s; data in $home)"; return 0; }
    running || { tail -n 30 "$log" "$home/logs/server.log" >&2; die "the broker exited while starting"; }
    sleep 0.2
  done
  die "the broker did not serve within 120 s; see $home/logs"
}

start() { launch && wait_serving; }

stop() {
  running || { rm -f "$pidfile"; echo "broker.sh: not running"; return 0; }
  local pid; pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "broker.sh: no clean stop after 30 s; killing" >&2; kill -KILL "$pid"; }
  rm -f "$pidfile"
  echo "broker.sh: stopped"
}

case "${1:-}" in
  start) start ;;
  # A node of a cluster only serves once a quorum of controllers runs: cluster.sh launches
  # every node first, then waits for each.
  launch) launch ;;
  wait) wait_serving ;;
  stop) stop ;;
  status) serving ;;
  fetch) need_tools; fetch ;;
  *) echo "usage: $0 start|stop|status|fetch|launch|wait" >&2; exit 2 ;;
esac
