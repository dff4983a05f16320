"""Runs the whole system on this machine: sandbox platforms, ingest, scheduler, one publisher per
configured platform. ``make run`` uses it after starting the broker; the end-to-end tests use
``LocalSystem`` to run exactly what a newcomer runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.ids import ID_BASE_ENV, id_base_at
from services.publisher.credentials import local_setup
from shared.channels import load_channels
from shared.clock import Clock, utcnow
from shared.settings import ROOT
from warta.cli_messages import say

# Re-exported: the tests, the benchmarks and the broker helper import these from here.
from warta.dev_ports import free_listen_port as free_listen_port
from warta.dev_ports import free_port as free_port
from warta.dev_ports import port_is_free as port_is_free
from warta.dev_secrets import ensure_secrets as ensure_secrets
from warta.dev_secrets import sandbox_token as sandbox_token
from warta.dev_welcome import cli_env, welcome
from warta.log_tail import log_since
from warta.service_table import Layout, Service, common_env, system_services


@dataclass
class LocalSystem:
    bootstrap: str
    var: Path = ROOT / "var"
    ingest_port: int = 8080
    sandbox_port: int = 8090
    console_port: int = 0  # 0: a free port (tests); `warta dev` asks for 8070
    analytics_port: int = 0  # 0: a free port (tests); `warta dev` asks for 8075
    inbox_port: int = 0  # 0: a free port (tests); `warta dev` asks for 8060
    topic_prefix: str = ""
    group_prefix: str = "warta"
    # The demo channels point at the sandbox on 127.0.0.1:8090; on another port, a copy under
    # var/ is written with their base URLs moved there.
    source_channels: Path = ROOT / "deploy" / "channels.local.yaml"
    extra_env: dict[str, str] = field(default_factory=dict)
    # Scheduler and publisher processes per platform, in the same consumer groups (scale-out).
    workers: int = 1
    # Publish only on these platforms (all configured ones with an adapter when empty).
    platforms: tuple[str, ...] = ()
    # Serve each process's /metrics on the fixed ports deploy/prometheus scrapes (`warta dev`).
    metrics: bool = False
    # A test or benchmark system: its topics are deleted when it stops.
    ephemeral: bool = False
    # When each sandbox start happens: its ids start past the last one's (sandbox/ids.py).
    clock: Clock = utcnow
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    metric_ports: dict[str, int] = field(default_factory=dict)
    # where each process's output begins in its log (logs are appended to across runs)
    log_starts: dict[str, int] = field(default_factory=dict)
    _port_moves: int = 0
    # What moved off a taken port: (the port asked for, the port used), for the banner.
    moves: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.console_port == 0:
            self.console_port = free_listen_port()
        if self.analytics_port == 0:
            self.analytics_port = free_listen_port()
        if self.inbox_port == 0:
            self.inbox_port = free_listen_port()

    @property
    def channels_file(self) -> Path:
        if self.sandbox_port == 8090:
            return self.source_channels
        return self.var / "channels.yaml"

    @property
    def logs(self) -> Path:
        return self.var / "logs"

    @property
    def pids(self) -> Path:
        """One pid file per running process: `make stop` (deploy/stop.sh) ends what a `warta dev`
        that was killed outright left behind (each process leads its own session)."""
        return self.var / "pids"

    @property
    def secrets_file(self) -> Path:
        return self.var / "secrets.json"

    @property
    def sandbox_accounts_file(self) -> Path:
        """The sandbox platforms' own accounts; Warta's copy is the encrypted vault."""
        return self.var / "sandbox-accounts.json"

    @property
    def dev_keys_file(self) -> Path:
        return self.var / "dev-keys.json"

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    @property
    def inbox_url(self) -> str:
        return f"http://127.0.0.1:{self.inbox_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def layout(self) -> Layout:
        return Layout(
            bootstrap=self.bootstrap,
            channels_file=str(self.channels_file),
            secrets_file=str(self.secrets_file),
            keys_file=str(self.var / "keys.json"),
            state_dir=str(self.var / "state"),
            ingest_port=self.ingest_port,
            console_port=self.console_port,
            inbox_port=self.inbox_port,
            sandbox_port=self.sandbox_port,
            analytics_port=self.analytics_port,
            topic_prefix=self.topic_prefix,
            group_prefix=self.group_prefix,
            sandbox_accounts_file=str(self.sandbox_accounts_file),
            credentials_file=str(self.var / local_setup.VAULT_FILE),
            credentials_key_file=str(self.var / local_setup.KEY_FILE),
        )

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(common_env(self.layout()))
        env.update(self.lapor_env())
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def lapor_env(self) -> dict[str, str]:
        """The inbox forwards complaints to the sandbox's SP4N-LAPOR! fake (``sandbox.lapor``), which
        takes any sandbox account's token, as every channel posts to the sandbox's platforms:
        without it, each forward in a local system is refused as not configured (502)."""
        if not self.sandbox_accounts_file.exists():  # written by ``prepare``, before any spawn
            return {}
        accounts = json.loads(self.sandbox_accounts_file.read_text())
        token = next((account["token"] for _, account in sorted(accounts.items())), None)
        if token is None:
            return {}
        return {"WARTA_LAPOR_BASE_URL": f"{self.sandbox_url}/lapor", "WARTA_LAPOR_TOKEN": token}

    def services(self) -> list[Service]:
        """What ``start`` runs (one worker each): the table compose and systemd are checked against."""
        from services.publisher.adapters.registry import PLATFORM_ADAPTERS

        platforms = [
            p
            for p in load_channels(self.channels_file).platforms
            if p in PLATFORM_ADAPTERS and (not self.platforms or p in self.platforms)
        ]
        return system_services(self.layout(), platforms)

    def prepare(self) -> None:
        from shared.http_auth import generate_dev_keys

        self.logs.mkdir(parents=True, exist_ok=True)
        if self.channels_file != self.source_channels:
            text = self.source_channels.read_text().replace("http://127.0.0.1:8090", self.sandbox_url)
            self.channels_file.write_text(text)
        channels = load_channels(self.channels_file)
        local_setup.adopt_legacy_secrets(self.var)
        ensure_secrets(
            self.sandbox_accounts_file, [(c.secret or c.id, c.platform) for c in channels.channels]
        )
        local_setup.prepare_vault(
            self.var,
            self.sandbox_accounts_file,
            self.env().get("WARTA_CREDENTIALS_KEY"),
            channels.channels,
        )
        if not self.dev_keys_file.exists() or not (self.var / "keys.json").exists():
            # Hashed with the pepper the services will be given (WARTA_KEY_PEPPER), or none.
            pepper = self.env().get("WARTA_KEY_PEPPER", "").encode("utf-8")
            generate_dev_keys(self.var / "keys.json", self.dev_keys_file, pepper)

    def process_env(self, name: str, *args: str) -> dict[str, str]:
        """The environment ``_spawn`` starts ``name`` with, made again at each (re)start."""
        env = {**self.env(), "WARTA_METRICS_PORT": str(self.metric_ports.get(name, 0))}
        env["WARTA_INSTANCE_ID"] = name  # stable across restarts: it fences its killed predecessor
        if args[:1] == ("sandbox",):  # a restarted sandbox must not hand out an id the broker holds
            env[ID_BASE_ENV] = str(id_base_at(self.clock()))
        return env

    def _spawn(self, name: str, *args: str, metrics_port: int = 0) -> None:
        self.commands[name] = args
        self.metric_ports[name] = metrics_port
        with (self.logs / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            self.log_starts[name] = log.seek(0, os.SEEK_END)
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "warta.cli", *args],
                cwd=ROOT,
                env=self.process_env(name, *args),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pids.mkdir(parents=True, exist_ok=True)
        (self.pids / f"{name}.pid").write_text(f"{self.procs[name].pid}\n")

    def start(self, timeout: float = 60.0) -> None:
        self._move_taken_ports()
        self.prepare()
        table = self.services()
        for n in range(1, self.workers + 1):
            # Scheduler and publishers scale out in their consumer groups; the rest run once.
            for service in table:
                scales = service.args[0] in ("scheduler", "publisher")
                if n > 1 and not scales:
                    continue
                name = service.name if n == 1 else f"{service.name}-{n}"
                serve = self.metrics and n == 1 and scales
                metrics_port = service.metrics_port if serve else 0
                if metrics_port and not port_is_free(metrics_port):
                    metrics_port = self._moved(f"{name} metrics", metrics_port)
                self._spawn(name, *service.args, metrics_port=metrics_port)
                if name == "sandbox":
                    # Before any publisher reads the vault: every demo account connects through
                    # its platform's flow, against this sandbox (its grants live in memory).
                    local_setup.connect_demo_accounts(self.sandbox_url, self.env(), timeout)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = {"ingest", "console", "inbox"}
        while time.monotonic() < deadline:
            self._check_exits()
            for name in sorted(waiting):
                if name not in self.procs:
                    waiting.discard(name)  # a partial system (e.g. restarted pieces) waits for what it runs
                    continue
                # A port may have moved since the system started.
                url = {"ingest": self.ingest_url, "inbox": self.inbox_url}.get(name, self.console_url)
                try:
                    with urllib.request.urlopen(f"{url}/readyz", timeout=2) as resp:
                        if resp.status == 200:
                            waiting.discard(name)
                except OSError:
                    pass
            if not waiting:
                return
            time.sleep(0.3)
        raise TimeoutError(say("dev_not_ready", waiting=", ".join(waiting), timeout=timeout, logs=self.logs))

    def _check_exits(self) -> None:
        """Raise for a process that died, unless it lost its port and was moved to a new one.

        Moving one port restarts other processes too (the console, with ingest), so the processes
        are looked up again after each move: the console killed by the move is not a crash.
        """
        moved = True
        while moved:
            moved = False
            for name, proc in list(self.procs.items()):
                if self.procs.get(name) is not proc or proc.poll() is None:
                    continue
                log = log_since(self.logs / f"{name}.log", self.log_starts.get(name, 0), 100_000)
                # Past the tail shown: a faust worker logs its whole shutdown after the bind error.
                if "address already in use" in log and self._moved_port(name):
                    moved = True
                    break
                raise RuntimeError(say("dev_exited", name=name, code=proc.returncode, tail=log[-3000:]))

    def _moved_port(self, name: str) -> bool:
        """Start ``name`` (ingest, console, inbox or analytics) again on a new port after its port was
        taken between choosing it and binding it (another program on the machine got there first);
        the console, which calls ingest and links to analytics, starts again with either. At most a
        few times per system."""
        if self._port_moves >= 3 or name == "sandbox":  # the demo channels point at its port
            return False
        self._port_moves += 1
        if name in ("ingest", "analytics"):
            if name == "ingest":
                self.ingest_port = self._moved("ingest", self.ingest_port)
            else:
                self.analytics_port = self._moved("analytics", self.analytics_port)
            if "console" in self.procs and self.procs["console"].poll() is None:
                self.kill("console", signal.SIGTERM)
            self.restart(name)
            if "console" in self.procs:
                self.restart("console")
        elif name == "inbox":
            self.inbox_port = self._moved("inbox", self.inbox_port)
            self.restart("inbox")
        elif name == "console":
            self.console_port = self._moved("console", self.console_port)
            self.restart("console")
        elif self.metric_ports.get(name):  # the scheduler's or a publisher's /metrics
            self.metric_ports[name] = self._moved(f"{name} metrics", self.metric_ports[name])
            self.restart(name)
        else:
            return False
        return True

    def _moved(self, what: str, port: int) -> int:
        """A free port for ``what`` instead of ``port``, noted for the banner."""
        new = free_listen_port()
        self.moves[what] = (port, new)
        return new

    def _move_taken_ports(self) -> None:
        """Before starting: a fixed port another program holds is moved, instead of letting the
        service die on its bind error; the console and the CLI learn ingest's new URL from us."""
        for what in ("ingest", "console", "inbox", "analytics"):
            port = getattr(self, f"{what}_port")
            if not port_is_free(port):
                setattr(self, f"{what}_port", self._moved(what, port))

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def restart(self, name: str) -> None:
        """Start ``name`` again with the arguments it was first started with."""
        self._spawn(name, *self.commands[name], metrics_port=self.metric_ports.get(name, 0))

    def revive(self, report: Callable[[str, int], None] | None = None) -> list[str]:
        """Restart every process that died (a supervisor's job: services crash on purpose when
        their broker writes fail, and rebuild their state from Kafka when they come back)."""
        revived = []
        for name, proc in list(self.procs.items()):
            code = proc.poll()
            if code is not None:
                if report is not None:
                    report(name, code)
                self.restart(name)
                revived.append(name)
                if name == "sandbox":
                    # Its grants lived in its memory: connect the demo accounts again.
                    local_setup.connect_demo_accounts(self.sandbox_url, self.env(), 30.0)
        return revived

    def stop(self) -> None:
        self._stop_processes()
        if self.ephemeral and self.topic_prefix:
            import asyncio
            from concurrent.futures import ThreadPoolExecutor

            from shared.kafka import delete_topics

            # A loop of its own in a thread: stop() is also called from async tests, whose loop
            # is running (asyncio.run would refuse, leaving the coroutine never awaited).
            try:
                with ThreadPoolExecutor(1) as pool:
                    pool.submit(asyncio.run, delete_topics(self.bootstrap, self.topic_prefix)).result()
            except Exception as exc:  # cleanup only: the broker may be gone already
                print(say("dev_cannot_delete", prefix=self.topic_prefix, error=repr(exc)), file=sys.stderr)

    def _stop_processes(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for name in self.procs:
            (self.pids / f"{name}.pid").unlink(missing_ok=True)
        self.procs.clear()


def _welcome(system: LocalSystem) -> str:
    """What ``warta dev`` prints once every service answers: where each one is, and a first item."""
    urls = {
        "ingest": system.ingest_url,
        "console": system.console_url,
        "analytics": f"http://127.0.0.1:{system.analytics_port}",
        "inbox": system.inbox_url,
        "sandbox": system.sandbox_url,
    }
    keys = json.loads(system.dev_keys_file.read_text())
    return welcome(
        urls,
        keys,
        str(system.logs),
        str(system.dev_keys_file),
        cli_env(urls, system.var, system.channels_file, system.moves),
    )


def main() -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    sandbox_port = int(os.environ.get("WARTA_SANDBOX_PORT", "8090"))
    if not port_is_free(sandbox_port):
        # Not moved for the user: a sandbox elsewhere runs on a copy of the channels file, which
        # the CLI then needs named (WARTA_CHANNELS_FILE); choosing the port makes that explicit.
        print(say("dev_sandbox_port_taken", port=sandbox_port), file=sys.stderr)
        return 1
    system = LocalSystem(
        bootstrap=bootstrap,
        sandbox_port=sandbox_port,
        ingest_port=int(os.environ.get("WARTA_INGEST_PORT", "8080")),
        console_port=int(os.environ.get("WARTA_CONSOLE_PORT", "8070")),
        analytics_port=int(os.environ.get("WARTA_ANALYTICS_PORT", "8075")),
        inbox_port=int(os.environ.get("WARTA_INBOX_PORT", "8060")),
        metrics=True,
    )
    try:
        system.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"warta dev: {exc}", file=sys.stderr)
        system.stop()
        return 1
    print(_welcome(system), flush=True)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop:
            system.revive(
                lambda name, code: print(
                    say("dev_restarting", name=name, code=code, log=f"{system.logs}/{name}.log"), flush=True
                )
            )
            time.sleep(0.5)
    finally:
        print(say("dev_stopping"), flush=True)
        system.stop()
    return 0
