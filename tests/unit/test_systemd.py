"""deploy/systemd/ runs the services of warta/service_table.py on a VM without Docker, with the
environment that table gives them (the same one `warta dev` and docker-compose.yml use)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.settings import ROOT
from warta.devrun import LocalSystem
from warta.service_table import Layout, Service, common_env

SYSTEMD = ROOT / "deploy" / "systemd"
VM_LAYOUT = Layout(
    bootstrap="127.0.0.1:9092",
    channels_file="/etc/warta/channels.yaml",
    secrets_file="/var/lib/warta/secrets.json",
    keys_file="/var/lib/warta/keys.json",
    state_dir="/var/lib/warta/state",
)
WARTA = "/opt/warta/venv/bin/warta"


def table() -> list[Service]:
    return LocalSystem(
        bootstrap="127.0.0.1:9092", console_port=8070, analytics_port=8075, inbox_port=8060, metrics=True
    ).services()


def unit_file(service: Service) -> Path:
    name = "publisher@" if service.name.startswith("publisher-") else service.name
    return SYSTEMD / f"warta-{name}.service"


def read_unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(path)
    return parser


def env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def exec_args(service: Service) -> list[str]:
    """The unit's command line, with the instance and the environment a VM would give it."""
    command = read_unit(unit_file(service))["Service"]["ExecStart"]
    platform = service.args[-1] if service.name.startswith("publisher-") else ""
    command = command.replace("%i", platform).replace("${WARTA_SECRETS_FILE}", VM_LAYOUT.secrets_file)
    return command.split()


def test_every_service_of_the_table_has_a_unit_that_runs_it() -> None:
    for service in table():
        assert unit_file(service).exists(), service.name
        args = exec_args(service)
        assert args[0] == WARTA
        # A VM's layout names no sandbox accounts file: its sandbox reads the secrets file.
        local_files = ("secrets.json", "sandbox-accounts.json")
        expected = [VM_LAYOUT.secrets_file if a.endswith(local_files) else a for a in service.args]
        assert args[1:] == expected, service.name


def test_the_target_wants_every_service_but_the_sandbox() -> None:
    wants = " ".join(
        line.split("=", 1)[1]
        for line in (SYSTEMD / "warta.target").read_text().splitlines()
        if line.startswith("Wants=")
    ).split()
    expected = {"warta-topics.service"} | {
        f"warta-publisher@{s.args[-1]}.service"
        if s.name.startswith("publisher-")
        else f"warta-{s.name}.service"
        for s in table()
        if s.name != "sandbox"
    }
    assert set(wants) == expected


def test_the_units_read_the_tables_environment() -> None:
    assert env_file(SYSTEMD / "warta.env") == common_env(VM_LAYOUT)
    for service in table():
        unit = read_unit(unit_file(service))["Service"]
        assert unit["EnvironmentFile"].startswith("/etc/warta/"), service.name
        if service.name.startswith("publisher-"):
            platform = service.args[-1]
            assert env_file(SYSTEMD / "publisher" / f"{platform}.env") == service.env
        elif service.env:
            assert unit["Environment"].split() == [f"{k}={v}" for k, v in service.env.items()]


def test_services_that_read_secrets_wait_for_them() -> None:
    for service in table():
        if service.needs_secrets:
            pre = read_unit(unit_file(service))["Service"].get("ExecStartPre", "")
            assert "test -s" in pre, service.name
            assert read_unit(unit_file(service))["Service"]["Restart"] == "on-failure"


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; the units are checked by structure only")
    for path in [*SYSTEMD.glob("*.service"), SYSTEMD / "warta.target"]:
        shutil.copy(path, tmp_path / path.name.replace("@.service", "@mastodon.service"))
    units = sorted(str(p) for p in tmp_path.iterdir())
    done = subprocess.run(
        [analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=120
    )
    # The VM's venv is not on this machine; every other complaint is a mistake in a unit.
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and f"Command {WARTA} is not executable" not in line
    ]
    assert problems == []
