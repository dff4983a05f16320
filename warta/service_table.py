"""The services of one Warta system and the environment each runs with, in one table.

``warta dev`` (warta/devrun.py) starts exactly these; docker-compose.yml and deploy/systemd/ are
written from them, and tests/unit/test_compose.py and test_systemd.py compare those files with
this table, so a setting added here and forgotten there fails a test instead of a deploy.

Ingest, the console, analytics and the inbox serve ``/metrics`` on their own HTTP port; the scheduler and the publishers
serve it on ``WARTA_METRICS_PORT`` (the ports deploy/prometheus scrapes, shared/metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.metrics import SCHEDULER_METRICS_PORT, publisher_metrics_port


@dataclass(frozen=True)
class Layout:
    """Where one system's files are and which ports it serves on (a checkout, an image, a VM)."""

    bootstrap: str
    channels_file: str
    secrets_file: str
    keys_file: str
    state_dir: str
    ingest_port: int = 8080
    console_port: int = 8070
    inbox_port: int = 8060
    sandbox_port: int = 8090
    analytics_port: int = 8075
    topic_prefix: str = ""
    group_prefix: str = "warta"
    # The sandbox's own accounts (the platforms' side); empty: ``secrets_file``, as before the vault.
    sandbox_accounts_file: str = ""
    # The encrypted credential vault and its key file (shared/credentials); empty:
    # the operator configures them (a deployment's key is its own), or the clear file is read.
    credentials_file: str = ""
    credentials_key_file: str = ""


@dataclass(frozen=True)
class Service:
    name: str  # the process's name: its log file, compose service and systemd unit
    args: tuple[str, ...]  # arguments of the `warta` command
    metrics_port: int
    env: dict[str, str] = field(default_factory=dict)  # on top of ``common_env``
    # Started only once its secrets exist (compose: after `keys`; systemd: ConditionPathExists).
    needs_secrets: bool = False


def common_env(layout: Layout) -> dict[str, str]:
    """The environment every service of the system gets."""
    vault = {
        "WARTA_CREDENTIALS_FILE": layout.credentials_file,
        "WARTA_CREDENTIALS_KEY_FILE": layout.credentials_key_file,
    }
    return {k: v for k, v in vault.items() if v} | {
        "KAFKA_BOOTSTRAP_SERVERS": layout.bootstrap,
        "WARTA_TOPIC_PREFIX": layout.topic_prefix,
        "WARTA_GROUP_PREFIX": layout.group_prefix,
        "WARTA_CHANNELS_FILE": layout.channels_file,
        "WARTA_SECRETS_FILE": layout.secrets_file,
        "WARTA_KEYS_FILE": layout.keys_file,
        # Resumable uploads (YouTube, TikTok) and WhatsApp deliveries per job.
        "WARTA_STATE_DIR": layout.state_dir,
        "WARTA_INGEST_PORT": str(layout.ingest_port),
        "WARTA_CONSOLE_PORT": str(layout.console_port),
        "WARTA_ANALYTICS_PORT": str(layout.analytics_port),
        "WARTA_INBOX_PORT": str(layout.inbox_port),
        "WARTA_INGEST_URL": f"http://127.0.0.1:{layout.ingest_port}",
        "WARTA_SANDBOX_URL": f"http://127.0.0.1:{layout.sandbox_port}",
        # The sandbox serves demo media over plain http on loopback; allow only it.
        "WARTA_MEDIA_ALLOW_HOSTS": f"127.0.0.1:{layout.sandbox_port}",
    }


def system_services(layout: Layout, platforms: tuple[str, ...] | list[str]) -> list[Service]:
    """One system: the sandbox platforms, ingest, the scheduler, a publisher per platform, the
    console, analytics and the inbox."""
    table = [
        Service(
            "sandbox",
            (
                "sandbox",
                "--port",
                str(layout.sandbox_port),
                "--secrets",
                layout.sandbox_accounts_file or layout.secrets_file,
            ),
            metrics_port=0,
            needs_secrets=True,
            # Its own start's id base (sandbox/ids.py); ``warta dev`` passes the number itself.
            env={"WARTA_SANDBOX_ID_BASE": "auto"},
        ),
        Service("ingest", ("ingest",), metrics_port=layout.ingest_port, needs_secrets=True),
        Service(
            "scheduler",
            ("scheduler",),
            metrics_port=SCHEDULER_METRICS_PORT,
            env={"WARTA_METRICS_PORT": str(SCHEDULER_METRICS_PORT)},
        ),
    ]
    for platform in platforms:
        port = publisher_metrics_port(platform)
        table.append(
            Service(
                f"publisher-{platform}",
                ("publisher", "--platform", platform),
                metrics_port=port,
                env={"WARTA_METRICS_PORT": str(port)},
                needs_secrets=True,
            )
        )
    table.append(Service("console", ("console",), metrics_port=layout.console_port, needs_secrets=True))
    # Reach figures and the press office's read API; /metrics on the same port.
    table.append(
        Service(
            "analytics",
            ("analytics",),
            metrics_port=layout.analytics_port,
        )
    )
    # Citizens' comments: polls the platforms with the channels' tokens and serves Meta's webhooks
    # and the inbox API (and /metrics) on its own port.
    table.append(
        Service(
            "inbox",
            ("inbox",),
            metrics_port=layout.inbox_port,
            needs_secrets=True,
        )
    )
    return table
