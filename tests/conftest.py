"""Shared fixtures: a real SQLCipher vault in a temporary state directory, and the CLI."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from callrec.config import Config, load_config
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder, get_call

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"


def write_config(directory: Path, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "callrec.toml"
    path.write_text(f'state_dir = "{directory / "state"}"\n{extra}')
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def config(config_file: Path) -> Config:
    return load_config(config_file)


@pytest.fixture
def vault(config: Config):
    v, _ = Vault.initialise(config)
    yield v
    v.close()


def record_call(vault: Vault, seconds: float = 3.0, started_ts: float | None = None, rate: int = 8000,
                channels: int = 1, seed: int = 0, kind: str = "call") -> int:
    """A sealed call of noise-like audio through the real recorder."""
    rec = CallRecorder(vault)
    started = time.time() - 3600 if started_ts is None else started_ts
    call_id = rec.start_call(started, rate, channels, kind=kind)
    rng = np.random.default_rng(seed)
    frames = int(seconds * rate)
    for start in range(0, frames, rate // 10):
        n = min(rate // 10, frames - start)
        rec.append(call_id, (rng.standard_normal((n, channels)) * 3000).astype(np.int16))
    rec.seal(call_id)
    return call_id


def call_status(vault: Vault, call_id: int) -> str:
    return get_call(vault, call_id).status


def audio_rows(vault: Vault, call_id: int) -> int:
    return vault.query("SELECT count(*) FROM sealed_audio WHERE call_id = ?", (call_id,))[0][0]


def run_cli(config_file: Path, *argv: str, user: str | None = None, env: dict | None = None,
            **kw) -> subprocess.CompletedProcess:
    """Run the real ``callrec`` command in a new process (as ``user`` through runuser when given)."""
    cmd = [sys.executable, "-m", "callrec", "--config", str(config_file), *argv]
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    env = {**{k: v for k, v in os.environ.items() if k != "CALLREC_CONFIG"}, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=kw.pop("cwd", "/"), **kw)


def _can_mount_tmpfs() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a small tmpfs"
    probe = Path(tempfile.mkdtemp(prefix="callrec-mount-probe-"))
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
        if done.returncode != 0:
            return f"cannot mount a tmpfs here ({done.stderr.decode().strip() or done.returncode})"
        subprocess.run(["umount", str(probe)], check=True)
        return None
    finally:
        probe.rmdir()


@contextlib.contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``mount`` (a disk that fills up for real); skips without root."""
    reason = _can_mount_tmpfs()
    if reason:
        pytest.skip(reason)
    mount.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MiB tmpfs to hold a state directory (a new vault with its WAL takes about 1.7 MiB)."""
    with tmpfs(tmp_path / "small", "3m") as mount:
        yield mount


def open_dir(prefix: str) -> Path:
    """A new directory under /tmp that the test's other OS accounts may enter (0755)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    base.chmod(0o755)
    return base


def accounts_skip_reason(module: str = "callrec.cli") -> str | None:
    """Why tests with real OS accounts cannot run here (they need root, useradd and runuser, and a
    Python with callrec that other accounts can run), or None."""
    import shutil

    if os.geteuid() != 0:
        return "needs root to create OS accounts with useradd"
    if not shutil.which("useradd") or not shutil.which("runuser"):
        return "useradd/runuser not available"
    probe = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", f"import {module}"],
                           capture_output=True, cwd="/")
    if probe.returncode != 0:
        return (f"{sys.executable} with callrec is not usable by other accounts (install into a world-readable"
                " venv, as .ci/run does)")
    return None


def accounts_site(prefix: str, roles: dict[str, list[str]], extra_config: str = "",
                  others: tuple[str, ...] = ()) -> tuple[Path, Path, dict[str, str]]:
    """A world-readable directory with a config, ``callrec init`` run by this (root) process, and a
    real OS account per key of ``roles`` given those roles (plus ``others`` with none): the base
    directory, the config file and the account names by key (tear it down with ``tear_down_site``)."""
    import secrets

    base = open_dir(prefix)
    config_file = write_config(base, extra_config)
    config_file.chmod(0o644)
    suffix = secrets.token_hex(3)
    accounts = {key: f"cr{key}{suffix}" for key in [*roles, *others]}
    for name in accounts.values():
        add_os_account(name)
    assert run_cli(config_file, "init").returncode == 0
    for key, granted in roles.items():
        assert run_cli(config_file, "users", "add", accounts[key], *[f"--role={r}" for r in granted]).returncode == 0
    return base, config_file, accounts


def add_os_account(name: str) -> None:
    """A real OS account without a home or a login shell (remove it with ``userdel``)."""
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)


def start_serve(config_file: Path, config: Config, **popen: object) -> subprocess.Popen:
    """A real ``callrec serve`` as this process's account, returned once its socket is there."""
    server = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), "serve"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd="/", **popen)
    for _ in range(100):
        if config.socket_path.exists() or server.poll() is not None:
            break
        time.sleep(0.1)
    assert config.socket_path.exists(), server.stderr.read() if server.poll() is not None else "no socket"
    return server


def tear_down_site(server: subprocess.Popen | None, accounts: Iterator[str], base: Path | None) -> None:
    """Stop the daemon, remove the OS accounts and the site's directory."""
    import shutil

    if server is not None:
        server.terminate()
        server.wait(10)
    for name in accounts:
        subprocess.run(["userdel", name], check=False)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)
