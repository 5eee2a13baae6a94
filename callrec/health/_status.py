"""Is the recorder alive, and how is it doing — for people who may see no content.

The daemon keeps a small status file beside its socket (``<socket>.status.json``, mode 0644): when
it started, when it last wrote the file, the device and its state, the last frame, the input level,
the queue depth, and the maintenance windows still ahead. It holds nothing secret, so monitoring
accounts that cannot read the data key can tell "the daemon is dead" (CRITICAL) from "I cannot
tell" (UNKNOWN). :func:`collect_status` adds what the vault knows for ``callrec status``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from callrec import __version__, jsoncodec
from callrec.config import Config
from callrec.health._findings import Finding
from callrec.health._maintenance import list_maintenance
from callrec.timefmt import day_bounds, format_ts
from callrec.vault import Vault, last_written, latest_checkpoint
from callrec.vault.archive import sealed_bytes_since
from callrec.vault.calls import calls_started, count_calls, last_test_call_ts, transcript_backlog

__all__ = ["DaemonStatus", "StatusKeeper", "SystemStatus", "collect_status",
           "daemon_down_finding", "print_status", "read_daemon_status", "status_from_file",
           "status_path", "write_daemon_status"]

log = logging.getLogger("callrec.health")

#: Seconds between two writes of the status file by the daemon.
STATUS_EVERY_S = 2.0


def status_path(config: Config) -> Path:
    return config.status_path


@dataclass(frozen=True)
class DaemonStatus:
    pid: int
    version: str
    up_since: float
    #: When the daemon last wrote this file ("last heard").
    heard: float
    source: str
    #: "starting", "capturing", "flatline", "device_lost" or "stopped".
    device_state: str
    last_frame: float | None = None
    input_dbfs: float | None = None
    queue_depth: int = 0
    queue_capacity: int = 0
    #: Planned maintenance not over yet: (from, to, reason).
    maintenance: list[tuple[float, float, str]] = field(default_factory=list)
    #: Each line's state (``line``, ``source``, ``device_state``, ``last_frame`` …; no number).
    lines: list[dict] = field(default_factory=list)
    #: The newest signed checkpoint (seq, hash, ts, sig): one more copy of the head outside the
    #: vault, which ``callrec verify`` checks (no content).
    head: dict | None = None


def write_daemon_status(config: Config, status: DaemonStatus) -> Path:
    """Atomically, world-readable: it is what monitoring accounts read when the daemon is gone."""
    path = status_path(config)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(asdict(status), f)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def read_daemon_status(config: Config) -> DaemonStatus | None:
    try:
        data = json.loads(status_path(config).read_text(encoding="utf-8"))
        data["maintenance"] = [tuple(w) for w in data.get("maintenance", [])]
        return DaemonStatus(**data)
    except (OSError, ValueError, TypeError):
        return None


def daemon_down_finding(config: Config, now: float | None = None) -> Finding:
    """What ``health check`` says when the daemon does not answer: CRITICAL, with when it was last
    heard — a WARNING while an announced maintenance window is on."""
    now = time.time() if now is None else now
    status = read_daemon_status(config)
    if status is None:
        return Finding("daemon", "critical", f"daemon not running (never heard: no status file {status_path(config)})")
    heard = format_ts(status.heard, config.zone, "seconds")
    planned = next((w for w in status.maintenance if w[0] <= now < w[1]), None)
    if planned:
        return Finding("daemon", "warning", f"daemon not running during planned maintenance ({planned[2]};"
                                            f" last heard {heard})", start_ts=status.heard)
    return Finding("daemon", "critical", f"daemon not running (last heard {heard})", start_ts=status.heard)


class StatusKeeper:
    """The daemon's side: rewrites the status file every few seconds from ``probe()`` and marks
    it stopped on a clean shutdown."""

    def __init__(self, config: Config, vault: Vault, probe: Callable[[], dict]) -> None:
        self.config = config
        self.vault = vault
        self.probe = probe
        self.up_since = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="status-file", daemon=True)

    def start(self) -> None:
        self.write()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.write(stopped=True)

    def write(self, stopped: bool = False) -> None:
        now = time.time()
        try:
            windows = [(w.from_ts, w.to_ts, w.reason) for w in list_maintenance(self.vault, now, now + 30 * 86400)]
            live = self.probe()
            if stopped:
                live["device_state"] = "stopped"
            cp = last_written(self.config.witness_path) or latest_checkpoint(self.config.witness_path)
            write_daemon_status(self.config, DaemonStatus(os.getpid(), __version__, self.up_since, now,
                                                          maintenance=windows, head=asdict(cp) if cp else None,
                                                          **live))
        except Exception as exc:  # noqa: BLE001 - monitoring must never take the recorder down
            log.warning("callrec status file could not be written (%s)", type(exc).__name__)

    def _loop(self) -> None:
        while not self._stop.wait(STATUS_EVERY_S):
            self.write()


@dataclass(frozen=True)
class SystemStatus:
    """``callrec status``: no content, only how the recorder is doing."""

    daemon_running: bool
    daemon_up_since: str | None
    daemon_last_heard: str | None
    version: str
    device: str | None
    device_state: str
    last_frame: str | None
    input_level_dbfs: float | None
    queue_depth: int | None
    queue_capacity: int | None
    #: None when only the status file could be read (the daemon is down, the key unreadable).
    calls_today: int | None
    asr_backlog: int | None
    disk_free_bytes: int
    disk_free_pct: float
    days_to_full: float | None
    last_test_call: str | None
    last_checkpoint: str | None
    last_checkpoint_seq: int | None
    #: Per line (only where the config names lines): name, source, state, last frame, calls today.
    lines: list[dict] | None = None


def days_until_full(vault: Vault, config: Config, now: float) -> float | None:
    """Free bytes over the sealed audio written per day in the last week; None when nothing was written."""
    written = sealed_bytes_since(vault, now - 7 * 86400)
    if not written:
        return None
    return shutil.disk_usage(config.vault_path.parent).free / (written / 7)


def collect_status(vault: Vault, config: Config, now: float | None = None) -> SystemStatus:
    now = time.time() if now is None else now
    zone = config.zone
    midnight = day_bounds(dt.datetime.fromtimestamp(now, zone).date(), zone)[0]
    calls_today = count_calls(vault, midnight)
    backlog = transcript_backlog(vault)
    test = last_test_call_ts(vault)
    days = days_until_full(vault, config, now)
    status = _status(config, now, calls_today, backlog, test, None if days is None else round(days, 1))
    if not config.lines:
        return status
    return dataclasses.replace(status, lines=_lines(vault, config, midnight, status.daemon_running))


def _lines(vault: Vault | None, config: Config, midnight: float, running: bool) -> list[dict]:
    """Each line: its source, what the daemon last said of it, its calls today and last test call."""
    daemon = read_daemon_status(config)
    live = {s.get("line"): s for s in (daemon.lines if daemon else [])}
    out = []
    for line in config.recorded_lines:
        state = live.get(line.name, {})
        test = last_test_call_ts(vault, line.name) if vault is not None else None
        out.append({
            "name": line.name, "source": line.source,
            "state": state.get("device_state", "not running") if running else "not running",
            "last_frame": format_ts(state["last_frame"], config.zone, "seconds") if state.get("last_frame") else None,
            "calls_in_progress": state.get("calls_in_progress") if running else None,
            "calls_today": (len(calls_started(vault, midnight, float("inf"), kind="call", purged=True, line=line.name))
                            if vault is not None else None),
            "last_test_call": format_ts(test, config.zone, "seconds"),
        })
    return out


def status_from_file(config: Config, now: float | None = None) -> SystemStatus:
    """What is known without the vault or the daemon (it did not answer): the status file, the
    disk, the witness file."""
    status = _status(config, time.time() if now is None else now, None, None, None, None, answered=False)
    return dataclasses.replace(status, lines=_lines(None, config, 0.0, False)) if config.lines else status


def print_status(status: SystemStatus, as_json: bool, out: TextIO) -> None:
    fields = asdict(status)
    lines = fields.pop("lines")
    if lines is not None:
        fields["lines"] = lines
    if as_json:
        out.write(jsoncodec.document(fields).decode("utf-8"))  # the one --json encoder
        return
    for key, label in _LABELS.items():
        print(f"{label}: {_human(key, fields[key], fields)}", file=out)
    for line in lines or ():
        shown = ", ".join(f"{k} {_human(k, v, line)}" for k, v in line.items() if k != "name")
        print(f"line {line['name']}: {shown}", file=out)


def _human(key: str, value: object, fields: dict) -> str:
    """A status value as a person reads it (the JSON keeps the raw values)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "queue_depth" and "queue_capacity" in fields:
        return f"{value} of {fields['queue_capacity']} blocks"
    if key == "days_to_full":
        return "more than 10 years at the last week's rate" if value > 3650 else f"about {value:.0f} days"
    if key == "disk_free_pct":
        return f"{value:.1f}"
    return str(value)


_LABELS = {
    "daemon_running": "daemon running", "daemon_up_since": "up since", "daemon_last_heard": "last heard",
    "version": "version", "device": "device", "device_state": "device state", "last_frame": "last audio frame",
    "input_level_dbfs": "input level (dBFS)", "queue_depth": "capture queue", "calls_today": "calls today",
    "asr_backlog": "waiting for transcription", "disk_free_pct": "disk free (%)", "days_to_full": "days to full",
    "last_test_call": "last test call", "last_checkpoint": "last checkpoint",
}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process: it exists
        return True
    return True


def _status(config: Config, now: float, calls_today: int | None, backlog: int | None, test: float | None,
            days_to_full: float | None, answered: bool = True) -> SystemStatus:
    zone = config.zone
    daemon = read_daemon_status(config)
    running = (answered and daemon is not None and daemon.device_state != "stopped"
               and now - daemon.heard < 5 * STATUS_EVERY_S and _alive(daemon.pid))
    usage = shutil.disk_usage(config.vault_path.parent)
    try:
        checkpoint = latest_checkpoint(config.witness_path)
    except OSError:  # an account that may not read the witness file
        checkpoint = None
    return SystemStatus(
        daemon_running=running,
        daemon_up_since=format_ts(daemon.up_since, zone, "seconds") if running else None,
        daemon_last_heard=format_ts(daemon.heard, zone, "seconds") if daemon else None,
        version=daemon.version if running else __version__,
        device=daemon.source if daemon else None,
        device_state=daemon.device_state if running else "not running",
        last_frame=format_ts(daemon.last_frame, zone, "seconds") if daemon and daemon.last_frame else None,
        input_level_dbfs=daemon.input_dbfs if running else None,
        queue_depth=daemon.queue_depth if running else None,
        queue_capacity=daemon.queue_capacity if running else None,
        calls_today=calls_today,
        asr_backlog=backlog,
        disk_free_bytes=usage.free,
        disk_free_pct=round(100.0 * usage.free / usage.total, 1),
        days_to_full=days_to_full,
        last_test_call=format_ts(test, zone, "seconds"),
        last_checkpoint=format_ts(checkpoint.ts, zone, "seconds") if checkpoint else None,
        last_checkpoint_seq=checkpoint.seq if checkpoint else None,
    )
