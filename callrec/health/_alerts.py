"""Alerts: a critical finding goes at once to the journal and to the configured command, once.

The vault remembers which critical findings were sent (``alert_state``); the same finding is not
sent again until a run of its check no longer reports it, and then a "cleared" line is logged.
A command that fails is logged (without the message) and retried at the next run.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import time
from collections.abc import Iterable

from callrec.config import Config
from callrec.health._findings import Finding
from callrec.vault import Vault, head_line

__all__ = ["Alerter"]

log = logging.getLogger("callrec.health")


class Alerter:
    def __init__(self, vault: Vault, config: Config) -> None:
        self.vault = vault
        self.config = config

    def process(self, findings: list[Finding], checks_run: Iterable[str]) -> list[Finding]:
        """Send new critical findings, clear the ones of ``checks_run`` that are gone. Returns what was sent."""
        now = time.time()
        zone = self.config.zone
        critical = {f.key: f for f in findings if f.severity == "critical"}
        sent: list[Finding] = []
        with self.vault.transaction() as conn:
            known = {k: (c, s) for k, c, s in conn.execute("SELECT key, check_name, sent_ts FROM alert_state")}
            for key, (check, _) in known.items():
                if check in checks_run and key not in critical:
                    conn.execute("DELETE FROM alert_state WHERE key = ?", (key,))
                    log.info("callrec alert cleared: %s", check)
            for key, finding in critical.items():
                line = finding.line(zone)
                if key in known and known[key][1] is not None:
                    conn.execute("UPDATE alert_state SET last_ts = ? WHERE key = ?", (now, key))
                    continue
                log.critical("callrec alert: %s", line)
                delivered = self._run_command(f"{line}\n{head_line(self.vault)}")
                conn.execute(
                    "INSERT INTO alert_state (key, check_name, message, first_ts, last_ts, sent_ts) VALUES (?,?,?,?,?,?)"
                    " ON CONFLICT(key) DO UPDATE SET last_ts = excluded.last_ts, sent_ts = excluded.sent_ts",
                    (key, finding.check, finding.message, now, now, now if delivered else None))
                sent.append(finding)
        return sent

    def _run_command(self, line: str) -> bool:
        command = self.config.health.alert_command
        if not command:
            return True
        try:
            done = subprocess.run(shlex.split(command), input=line + "\n", text=True, timeout=60,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("callrec alert command could not run (%s): will retry", type(exc).__name__)
            return False
        if done.returncode != 0:
            log.error("callrec alert command exited with %d: will retry", done.returncode)
            return False
        return True
