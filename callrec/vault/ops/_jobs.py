"""What the scheduler did: one row per failed or missed run of a health job, and the newest
successful run of each (the table stays small); and when retention last ran."""

from __future__ import annotations

import time
from dataclasses import dataclass

from callrec.vault._store import Vault

__all__ = ["JobTrouble", "job_troubles", "last_ok_run_ts", "last_retention_ts", "record_job_run"]


@dataclass(frozen=True)
class JobTrouble:
    """How often one job failed (``"error"``) or was missed (``"missed"``) in a window."""

    job: str
    outcome: str
    count: int
    first_ts: float


def record_job_run(vault: Vault, job: str, outcome: str, detail: str = "", ts: float | None = None) -> None:
    """Keep every failure and miss; of successes only the newest per job."""
    ts = time.time() if ts is None else ts
    with vault.transaction() as conn:
        if outcome == "ok":
            conn.execute("DELETE FROM job_runs WHERE job = ? AND outcome = 'ok'", (job,))
        conn.execute("INSERT INTO job_runs (ts, job, outcome, detail) VALUES (?,?,?,?)", (ts, job, outcome, detail))


def job_troubles(vault: Vault, start_ts: float, end_ts: float) -> list[JobTrouble]:
    """Failed and missed runs in ``[start_ts, end_ts)``, per job and outcome, by job."""
    return [JobTrouble(*row) for row in vault.query(
        "SELECT job, outcome, count(*), min(ts) FROM job_runs WHERE outcome != 'ok' AND ts >= ? AND ts < ?"
        " GROUP BY job, outcome ORDER BY job", (start_ts, end_ts))]


def last_ok_run_ts(vault: Vault, job: str) -> float | None:
    return vault.query("SELECT max(ts) FROM job_runs WHERE job = ? AND outcome = 'ok'", (job,))[0][0]


def last_retention_ts(vault: Vault) -> float | None:
    """When retention last ran (by the schedule or by an admin), or None."""
    return vault.query("SELECT max(ts) FROM retention_runs")[0][0]
