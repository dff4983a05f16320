"""The wheel the image and the systemd units install is the system: built from this tree, installed
into a fresh venv, its services run from there (not from the checkout) and the console serves its
dashboard.

Measured here (2 shared cores): building the wheel ~8 s; a fresh venv with ``pip install`` of the
wheel and its dependencies from the pip cache ~65 s, too slow for every `make test`. So the venv is
made without pip and given this venv's site-packages for the *dependencies* (a path in a .pth file:
its own .pth files, among them the editable install of this checkout, are not processed), and the
wheel alone is installed into it (~2 s).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.channels import load_channels
from shared.http_auth import generate_dev_keys
from shared.kafka import delete_topics
from shared.settings import ROOT
from warta.devrun import ensure_secrets, free_listen_port

pytestmark = pytest.mark.integration

SOURCES = ("pyproject.toml", "README.md", "shared", "services", "warta", "sandbox", "bench")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: an in-tree build leaves build/ and *.egg-info in the checkout.
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("warta-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "warta-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        timeout=300,
    )
    return root


def test_the_wheel_carries_the_files_the_services_read(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    static = {p.relative_to(ROOT).as_posix() for p in (ROOT / "services" / "console" / "static").iterdir()}
    assert static
    assert static <= names
    # Every non-Python file under the packages: a file read at run time that the wheel lacks
    # only fails once deployed.
    data = {
        p.relative_to(ROOT).as_posix()
        for top in ("shared", "services", "warta", "sandbox")
        for p in (ROOT / top).rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    assert data <= names


@pytest.fixture
def installed_env(venv: Path, tmp_path: Path, kafka_bootstrap: str, run_id: str) -> Iterator[dict[str, str]]:
    generate_dev_keys(tmp_path / "keys.json", tmp_path / "dev-keys.json")
    channels = ROOT / "deploy" / "channels.local.yaml"
    ensure_secrets(
        tmp_path / "secrets.json", [(c.secret or c.id, c.platform) for c in load_channels(channels).channels]
    )
    prefix = f"w{run_id}."
    env = {
        # Nothing from this checkout: the interpreter finds Warta in the venv only.
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "WARTA_TOPIC_PREFIX": prefix,
        "WARTA_GROUP_PREFIX": f"w{run_id}",
        "WARTA_CHANNELS_FILE": str(channels),
        "WARTA_KEYS_FILE": str(tmp_path / "keys.json"),
        "WARTA_SECRETS_FILE": str(tmp_path / "secrets.json"),
        "WARTA_STATE_DIR": str(tmp_path / "state"),
        "WARTA_CONSOLE_PORT": str(free_listen_port()),
        "WARTA_INGEST_PORT": str(free_listen_port()),
        "PYTHONUNBUFFERED": "1",
    }
    yield env
    asyncio.run(delete_topics(kafka_bootstrap, prefix))


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=2) as resp:
        return int(resp.status), resp.read().decode("utf-8")


def _serve(argv: list[str], env: dict[str, str], cwd: Path, url: str, log: Path) -> tuple[int, str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                return _get(url)
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(log.read_text(errors="replace")[-3000:]) from None
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_every_service_runs_from_the_installed_wheel(
    venv: Path, installed_env: dict[str, str], tmp_path: Path
) -> None:
    warta = str(venv / "bin" / "warta")
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import services, shared; print(services.__file__, shared.__file__)",
        ],
        env=installed_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where
    assert str(venv) in where
    subprocess.run(
        [warta, "topics"], env=installed_env, cwd=tmp_path, check=True, capture_output=True, timeout=120
    )
    port = installed_env["WARTA_CONSOLE_PORT"]
    status, page = _serve(
        [warta, "console"], installed_env, tmp_path, f"http://127.0.0.1:{port}/", tmp_path / "c.log"
    )
    assert status == 200
    assert "<html" in page.lower()
    assert "dashboard.js" in page
    ingest = installed_env["WARTA_INGEST_PORT"]
    status, _ = _serve(
        [warta, "ingest"], installed_env, tmp_path, f"http://127.0.0.1:{ingest}/readyz", tmp_path / "i.log"
    )
    assert status == 200
    for args in (["scheduler"], ["publisher", "--platform", "mastodon"]):
        metrics = str(free_listen_port())
        status, text = _serve(
            [warta, *args],
            {**installed_env, "WARTA_METRICS_PORT": metrics},
            tmp_path,
            f"http://127.0.0.1:{metrics}/metrics",
            tmp_path / f"{args[0]}.log",
        )
        assert status == 200, args
        assert "warta_" in text, args
    sandbox = str(free_listen_port())
    argv = [warta, "sandbox", "--port", sandbox, "--secrets", installed_env["WARTA_SECRETS_FILE"]]
    status, _ = _serve(
        argv, installed_env, tmp_path, f"http://127.0.0.1:{sandbox}/healthz", tmp_path / "s.log"
    )
    assert status == 200
    # The newest services read files too: the inbox its page, the analytics worker its Reach page.
    inbox = {**installed_env, "WARTA_INBOX_PORT": str(free_listen_port())}
    inbox["WARTA_CREDENTIALS_FILE"] = str(tmp_path / "credentials.vault")
    url = f"http://127.0.0.1:{inbox['WARTA_INBOX_PORT']}/"
    status, page = _serve([warta, "inbox"], inbox, tmp_path, url, tmp_path / "inbox.log")
    assert status == 200
    assert "inbox.js" in page
    analytics = {**installed_env, "WARTA_ANALYTICS_PORT": str(free_listen_port())}
    url = f"http://127.0.0.1:{analytics['WARTA_ANALYTICS_PORT']}/reach"
    status, page = _serve([warta, "analytics"], analytics, tmp_path, url, tmp_path / "analytics.log")
    assert status == 200
    assert "<svg" in page or "<html" in page.lower()
