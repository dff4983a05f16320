"""apache/kafka (the version deploy/kafka pins) in KRaft mode, through testcontainers' generic
``DockerContainer``.

testcontainers' own ``KafkaContainer`` does not fit: importing ``testcontainers.kafka`` warns (an
error under ``filterwarnings=error``), its ``with_kraft()`` refuses tags it cannot parse as a
Confluent version (``4.1.1``), and its start script expects the Confluent image's files.

A client reaches a broker at the address the broker advertises, so that address must be the one
the host sees before the container starts. The container listens on the same port number that is
bound on the host (a free one chosen here), and advertises ``<docker host>:<that port>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

# In the broker's log once it serves clients (kafka.server.KafkaRaftServer).
STARTED = r"Kafka Server started"
CONTROLLER_PORT = 9093


@dataclass(frozen=True)
class KafkaNodeSpec:
    """One combined broker+controller node, configured as deploy/kafka/broker.sh configures it."""

    image: str
    host_port: int  # bound on the host to the same port inside the container
    advertised_host: str = "localhost"

    @property
    def bootstrap(self) -> str:
        return f"{self.advertised_host}:{self.host_port}"

    def env(self) -> dict[str, str]:
        # The apache/kafka image turns KAFKA_FOO_BAR into foo.bar in server.properties.
        return {
            "KAFKA_NODE_ID": "1",
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@localhost:{CONTROLLER_PORT}",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_LISTENERS": f"PLAINTEXT://0.0.0.0:{self.host_port},CONTROLLER://localhost:{CONTROLLER_PORT}",
            "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{self.bootstrap}",
            "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "KAFKA_NUM_PARTITIONS": "3",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
            # Topics come from Warta's topic registry, with their own configs.
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
            "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        }

    def port_bindings(self) -> dict[str, int]:
        return {f"{self.host_port}/tcp": self.host_port}


def configure(container: DockerContainer, spec: KafkaNodeSpec) -> DockerContainer:
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    container.with_envs(**spec.env())
    for inside, outside in spec.port_bindings().items():
        container.with_bind_ports(inside, outside)
    return container.waiting_for(LogMessageWaitStrategy(STARTED).with_startup_timeout(180))


def kafka_container(image: str, host_port: int) -> tuple[DockerContainer, KafkaNodeSpec]:
    """A container ready to start, and the spec it was configured with (its bootstrap address)."""
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(image)  # connects to the Docker engine
    spec = KafkaNodeSpec(image, host_port, advertised_host=container.get_docker_client().host())
    return configure(container, spec), spec
