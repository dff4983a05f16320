#!/usr/bin/env bash
# Provision and run one Apache Kafka 4.x node (broker + KRaft controller) on loopback.
#
#   deploy/kafka/broker.sh start    resolve jars (once), format storage (once), start, wait until it serves
#   deploy/kafka/broker.sh stop     stop it cleanly (SIGTERM, then wait for the controlled shutdown)
#   deploy/kafka/broker.sh status   exit 0 when running and answering
#   deploy/kafka/broker.sh fetch    only resolve the jars from Maven Central
#
# Settings (environment): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1),
# WARTA_VAR (var/ at the repository root; git-ignored), KAFKA_LIBS (jar folder), KAFKA_HEAP (1g).
# Re-running any command is safe.
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

write_config() {
  mkdir -p "$home/config" "$home/logs" "$home/data"
  cat >"$home/config/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$home/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
# Topics are created by Warta's topic registry, with their own configs.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
PROPS
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

format_storage() {
  [ -f "$home/data/meta.properties" ] && return 0
  local cluster_id
  cluster_id="$( (java_cmd kafka.tools.StorageTool random-uuid) | tail -n 1)"
  (java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$home/config/server.properties") \
    >"$home/logs/format.out" 2>&1 \
    || { cat "$home/logs/format.out" >&2; die "formatting KRaft storage failed"; }
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
serving() { running && port_open && grep -q "Kafka Server started" "$home/logs/server.log" 2>/dev/null; }

start() {
  need_tools
  fetch
  if serving; then echo "broker.sh: Kafka $kafka_version already serving on 127.0.0.1:$port"; return 0; fi
  running && stop
  port_open && die "port $port is taken by another process; set KAFKA_PORT"
  write_config
  format_storage
  : >"$home/logs/server.log"
  local t0=$SECONDS
  nohup "$BASH" -c "$(declare -f java_cmd); home='$home' libs='$libs'; java_cmd kafka.Kafka '$home/config/server.properties'" \
    >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 600); do
    serving && { echo "broker.sh: Kafka $kafka_version serving on 127.0.0.1:$port (started in $((SECONDS - t0))s; data in $home)"; return 0; }
    running || { tail -n 30 "$log" "$home/logs/server.log" >&2; die "the broker exited while starting"; }
    sleep 0.2
  done
  die "the broker did not serve within 120 s; see $home/logs"
}

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
  stop) stop ;;
  status) serving ;;
  fetch) need_tools; fetch ;;
  *) echo "usage: $0 start|stop|status|fetch" >&2; exit 2 ;;
esac
