"""``callrec run``: the daemon. Captures the line into the vault, transcribes sealed calls, runs
the health checks and serves the access socket; talks to systemd (READY, WATCHDOG, STOPPING)."""

from __future__ import annotations

import argparse
import logging
import threading

from callrec.asr import TranscriptionWorker
from callrec.capture import DeviceSource, Pipeline
from callrec.cli._context import Context
from callrec.cli._signals import on_stop_signals
from callrec.health import HealthService, StatusKeeper
from callrec.server import AccessServer
from callrec.systemd import notify, watchdog_interval
from callrec.vault import Vault, key_fingerprint

log = logging.getLogger(__name__)

#: The writer loop must have gone round within this many seconds for a watchdog ping (a long
#: call being sealed holds it for a moment).
_WRITER_MAX_AGE_S = 10.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the capture daemon: record the line into the vault (run by systemd)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # First: a second daemon stops here, before touching the running daemon's socket or vault.
    server = AccessServer(config)
    try:
        source = DeviceSource(config.capture)
        vault = Vault.open(config)
        log.info("checkpoint signing key %s", key_fingerprint(config))  # fails now, not at the first seal, if missing
    except BaseException:
        server.stop()
        raise
    worker = TranscriptionWorker(config)
    pipeline = Pipeline(config, vault, source, on_sealed=lambda call_id: worker.notify())
    health = HealthService(config)
    stop = threading.Event()
    stopped_by = on_stop_signals(stop.set)
    server.start()
    worker.start()
    health.start()
    pipeline.start()
    status = StatusKeeper(config, health.vault, pipeline.line_state)  # the checks' connection, not the writer's
    status.start()
    try:
        _supervise(pipeline, stop, source.name)
    finally:
        notify("STOPPING=1")
        log.info("callrec stopping (%s): sealing the call in progress", stopped_by[0] if stopped_by else "writer ended")
        pipeline.stop()
        try:
            pipeline.join()
        finally:
            status.stop()
            health.stop()
            worker.stop()
            server.stop()
            vault.checkpoint()
            vault.close()
            log.info("callrec stopped")
    return 0


def _supervise(pipeline: Pipeline, stop: threading.Event, source_name: str) -> None:
    """Until SIGTERM: tell systemd we are ready, then ping the watchdog only while the writer is
    really going round. A dead writer ends the loop (its error becomes the exit status)."""
    while not pipeline.started.wait(0.5):
        if stop.is_set() or not pipeline.alive(float("inf")):
            return
    notify("READY=1")
    notify(f"STATUS=capturing from {source_name}")
    interval = watchdog_interval()
    tick = interval / 3 if interval else 1.0
    while not stop.wait(tick):
        if not pipeline.alive(float("inf")):
            return
        if pipeline.alive(_WRITER_MAX_AGE_S):
            notify("WATCHDOG=1")
        else:
            log.error("capture writer has not gone round for %.0f s: withholding the watchdog ping", _WRITER_MAX_AGE_S)
