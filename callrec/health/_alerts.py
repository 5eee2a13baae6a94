"""Alerts: one per outage, sent when it is raised, when it is resolved, and at most every
``[health] renotify_hours`` while it lasts.

An outage is identified by its check and its real start (``Finding.outage_ts``), so a message
whose duration grows, or a window that clips the start, is still the same outage. One outage seen
by two checks (capture stopped now, then a ``service_gaps`` entry for the same span once capture
is back) is alerted once: a finding that starts where a known alert started is that alert.

The vault remembers the alerts (``alert_state``); the command is not run inside that transaction
but by :class:`Notifier`, a worker thread of its own with a timeout, so a slow mail command never
holds a vault lock that the capture writer needs. A command that fails is logged (without the
message) and the alert is sent again at the next run.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from callrec.config import Config
from callrec.health._findings import Finding
from callrec.timefmt import format_ts
from callrec.vault import Vault
from callrec.vault.log import head_line
from callrec.vault.ops import AlertBook, AlertState, alert_book, alert_undelivered

__all__ = ["Alerter", "Notice", "Notifier"]

log = logging.getLogger("callrec.health")

#: Two findings whose outages start within this many seconds are one outage.
_SAME_OUTAGE_S = 2.0
#: Resolved alerts are remembered this long (the live window, plus a margin) to recognise the
#: same outage when it reappears as a past gap.
_KEEP_RESOLVED_S = 26 * 3600


@dataclass(frozen=True)
class Notice:
    key: str
    #: "raised", "reminder", "resolved" or "past" (an outage found after it had ended).
    kind: str
    line: str
    #: The signed chain head, a second line for the alert command (ops keep it off the host).
    head: str = ""


class Notifier:
    """Runs the alert command for each notice, one at a time, in a thread of its own."""

    def __init__(self, command: str, timeout_s: float, on_failure: Callable[[Notice], None]) -> None:
        self.command = command
        self.timeout_s = timeout_s
        self.on_failure = on_failure
        self._queue: queue.Queue[Notice | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, notice: Notice) -> None:
        if not self.command:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="alert-command", daemon=True)
            self._thread.start()
        self._queue.put(notice)

    def wait(self, timeout: float | None = None) -> bool:
        """True once every submitted notice was handed to the command (tests, shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)

    def _loop(self) -> None:
        while (notice := self._queue.get()) is not None:
            try:
                if not self._run("\n".join(filter(None, (notice.line, notice.head)))):
                    self.on_failure(notice)
            except Exception as exc:  # noqa: BLE001 - the worker must outlive one bad notice
                log.error("callrec alert worker: %s", type(exc).__name__)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _run(self, line: str) -> bool:
        try:
            done = subprocess.run(shlex.split(self.command), input=line + "\n", text=True, timeout=self.timeout_s,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            log.error("callrec alert command did not finish within %.0f s: killed, will retry", self.timeout_s)
            return False
        except OSError as exc:
            log.error("callrec alert command could not run (%s): will retry", exc.strerror or type(exc).__name__)
            return False
        if done.returncode != 0:
            log.error("callrec alert command exited with %d: will retry", done.returncode)
            return False
        return True


class Alerter:
    def __init__(self, vault: Vault, config: Config) -> None:
        self.vault = vault
        self.config = config
        self.notifier = Notifier(config.health.alert_command, config.health.alert_timeout_s, self._undelivered)

    def process(self, findings: list[Finding], checks_run: Iterable[str], now: float | None = None) -> list[Notice]:
        """Raise, remind and resolve; returns the notices sent (journal now, command in its worker)."""
        now = time.time() if now is None else now
        checks_run = set(checks_run)
        critical = {f.key: f for f in findings if f.severity == "critical"}
        notices: list[Notice] = []
        with alert_book(self.vault, now - _KEEP_RESOLVED_S) as book:
            states = book.states()
            for key, state in states.items():
                current = critical.get(key)
                if state.resolved_ts is None and state.check in checks_run and (current is None or current.ended):
                    book.resolve(key, now)
                    notices.append(Notice(key, "resolved",
                                          f"RESOLVED {state.check}: {state.message} [since {self._ts(state.outage_ts)}]"))
            for key, finding in critical.items():
                notices += self._one(book, states, key, finding, now)
        head = head_line(self.vault) if notices and self.config.health.alert_command else ""
        for notice in notices:
            (log.info if notice.kind == "resolved" else log.critical)("callrec alert: %s", notice.line)
            self.notifier.submit(dataclasses.replace(notice, head=head))
        return notices

    def _one(self, book: AlertBook, states: dict[str, AlertState], key: str, finding: Finding,
             now: float) -> list[Notice]:
        line = finding.line(self.config.zone)
        known = states.get(key)
        if known is None and any(abs(s.outage_ts - finding.outage_ts) <= _SAME_OUTAGE_S
                                 for s in states.values() if finding.outage_ts is not None):
            return []  # the same outage, already alerted under another check
        if known is None:
            book.add(key, finding.check, finding.message, now, finding.outage_ts, ended=finding.ended)
            return [Notice(key, "past" if finding.ended else "raised", line)]
        book.seen(key, now, finding.message)
        if finding.ended:
            return []
        if known.resolved_ts is not None:  # the same outage is back after it looked resolved
            book.reopen(key, now)
            return [Notice(key, "raised", line)]
        if known.notified_ts is None:  # the last notice did not reach the command: send it again
            book.notified(key, now)
            return [Notice(key, "raised", line)]
        if now - known.notified_ts >= self.config.health.renotify_hours * 3600:
            book.notified(key, now)
            return [Notice(key, "reminder", f"{line} (still going on)")]
        return []

    def wait(self, timeout: float | None = None) -> bool:
        return self.notifier.wait(timeout)

    def close(self) -> None:
        self.notifier.close()

    def _ts(self, ts: float | None) -> str:
        return format_ts(ts, self.config.zone, "seconds") if ts is not None else "unknown"

    def _undelivered(self, notice: Notice) -> None:
        """The command failed: a raised or reminded alert is sent again at the next run."""
        if notice.kind in ("raised", "reminder"):
            alert_undelivered(self.vault, notice.key)
