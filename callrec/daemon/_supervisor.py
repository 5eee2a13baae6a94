"""The daemon's run: the access socket, one capture pipeline per line, the transcription worker,
the scheduled jobs and the status file, started in order and stopped in reverse; talks to systemd
(READY, WATCHDOG, STOPPING).

Each line has its own source, writer and vault connection (a long call being sealed on one line
never holds up another line's commits). Everything the daemon runs is assembled here, so nothing
below the daemon layer imports it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from callrec.asr import TranscriptionWorker
from callrec.capture import open_line_pipeline, open_line_source
from callrec.config import Config
from callrec.daemon._scheduler import HealthService
from callrec.daemon._server import AccessServer
from callrec.health import StatusKeeper
from callrec.signals import on_stop_signals
from callrec.systemd import notify, watchdog_interval
from callrec.vault import Vault
from callrec.vault.log import key_fingerprint

__all__ = ["run_daemon"]

log = logging.getLogger("callrec.daemon")

#: The writer loop must have gone round within this many seconds for a watchdog ping (a long
#: call being sealed holds it for a moment).
_WRITER_MAX_AGE_S = 10.0


def _open_lines(config: Config) -> tuple[list[Any], list[Vault]]:
    """Every line's source first (a missing device fails before the vault is touched), then a
    vault connection per line; on a failure what was opened is closed again."""
    vaults: list[Vault] = []
    try:
        sources = [open_line_source(line) for line in config.recorded_lines]
        for _ in sources:
            vaults.append(Vault.open(config))
        log.info("checkpoint signing key %s", key_fingerprint(config))  # fails now, not at the first seal, if missing
    except BaseException:
        for vault in vaults:
            vault.close()
        raise
    return sources, vaults


def run_daemon(config: Config) -> int:
    """Record until SIGTERM or SIGINT; the exit status of the daemon."""
    # First: a second daemon stops here, before touching the running daemon's socket or vault.
    server = AccessServer(config)
    try:
        sources, vaults = _open_lines(config)
    except BaseException:
        server.stop()
        raise
    worker = TranscriptionWorker(config)
    pipelines = [open_line_pipeline(config, vault, line, source, on_sealed=lambda call_id: worker.notify())
                 for line, source, vault in zip(config.recorded_lines, sources, vaults, strict=True)]
    health = HealthService(config)
    stop = threading.Event()
    stopped_by = on_stop_signals(stop.set)
    server.start()
    worker.start()
    health.start()
    for pipeline in pipelines:
        pipeline.start()
    status = StatusKeeper(config, health.vault, lambda: _line_states(config, pipelines))  # the checks' connection
    status.start()
    try:
        _supervise(pipelines, stop, ", ".join(s.name for s in sources))
    finally:
        notify("STOPPING=1")
        log.info("callrec stopping (%s): sealing the calls in progress", stopped_by[0] if stopped_by else "writer ended")
        _stop_all(pipelines, vaults, status, health, worker, server)
        log.info("callrec stopped")
    return 0


def _line_states(config: Config, pipelines: list[Any]) -> dict:
    """The status file's fields: the first line's at the top (as before lines), every line in ``lines``."""
    states = [{"line": line.name, **pipeline.line_state()} for line, pipeline in zip(config.recorded_lines, pipelines,
                                                                                      strict=True)]
    first = {k: v for k, v in states[0].items() if k not in ("line", "calls_in_progress")}
    return {**first, "lines": states}


def _stop_all(pipelines: list[Any], vaults: list[Vault], status: StatusKeeper, health: HealthService,
              worker: TranscriptionWorker, server: AccessServer) -> None:
    for pipeline in pipelines:
        pipeline.stop()
    try:
        for pipeline in pipelines:
            pipeline.join()
    finally:
        status.stop()
        health.stop()
        worker.stop()
        server.stop()
        for vault in vaults:
            vault.checkpoint()
            vault.close()


def _supervise(pipelines: list[Any], stop: threading.Event, source_names: str) -> None:
    """Until SIGTERM: tell systemd we are ready once every line captures, then ping the watchdog
    only while every writer really goes round. A dead writer ends the loop (its error becomes the
    exit status)."""
    while not all(p.started.wait(0.5) for p in pipelines):
        if stop.is_set() or not all(p.alive(float("inf")) for p in pipelines):
            return
    notify("READY=1")
    notify(f"STATUS=capturing from {source_names}")
    interval = watchdog_interval()
    tick = interval / 3 if interval else 1.0
    while not stop.wait(tick):
        if not all(p.alive(float("inf")) for p in pipelines):
            return
        if all(p.alive(_WRITER_MAX_AGE_S) for p in pipelines):
            notify("WATCHDOG=1")
        else:
            log.error("a capture writer has not gone round for %.0f s: withholding the watchdog ping", _WRITER_MAX_AGE_S)
