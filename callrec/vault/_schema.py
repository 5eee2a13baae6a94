"""Vault schema and migrations, versioned by ``PRAGMA user_version``.

A migration is appended, never edited: version N is ``MIGRATIONS[N-1]``. A vault whose
``user_version`` is above ``len(MIGRATIONS)`` was written by a newer callrec and is refused.

Times are stored as UNIX seconds (``*_ts REAL``, UTC); they are shown in the configured time zone.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "ROLES", "TRACKED_TABLES", "UNTRACKED_TABLES"]

ROLES = ("reviewer", "approver", "ops", "maintainer", "admin")

_V1 = f"""
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    created_ts REAL NOT NULL
);
CREATE TABLE user_roles (
    name TEXT NOT NULL REFERENCES users(name),
    role TEXT NOT NULL CHECK (role IN {ROLES!r}),
    PRIMARY KEY (name, role)
);

-- One row per call. Audio lives in chunks while recording and in sealed_audio once sealed.
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    started_ts REAL NOT NULL,
    ended_ts REAL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'call' CHECK (kind IN ('call', 'test')),
    status TEXT NOT NULL DEFAULT 'recording' CHECK (status IN ('recording', 'sealed', 'interrupted', 'purged')),
    flags TEXT NOT NULL DEFAULT '[]',
    frames INTEGER NOT NULL DEFAULT 0,
    levels TEXT NOT NULL DEFAULT '{{}}',
    pcm_sha256 TEXT,
    sealed_ts REAL,
    transcript_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (transcript_status IN ('pending', 'running', 'done', 'failed', 'no_model')),
    transcript_attempts INTEGER NOT NULL DEFAULT 0,
    transcript_error TEXT
);
CREATE INDEX calls_started ON calls(started_ts);

-- Raw interleaved little-endian int16 PCM while a call is being recorded (rows <= 256 KiB).
CREATE TABLE chunks (
    call_id INTEGER NOT NULL REFERENCES calls(id),
    seq INTEGER NOT NULL,
    frames INTEGER NOT NULL,
    pcm BLOB NOT NULL,
    PRIMARY KEY (call_id, seq)
);

-- The sealed FLAC stream, split into rows <= 256 KiB.
CREATE TABLE sealed_audio (
    call_id INTEGER NOT NULL REFERENCES calls(id),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE transcripts (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls(id),
    version INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    created_ts REAL NOT NULL,
    engine TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    words TEXT NOT NULL,
    text TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    UNIQUE (call_id, version, channel)
);
CREATE TRIGGER transcripts_no_update BEFORE UPDATE ON transcripts
BEGIN SELECT RAISE(ABORT, 'transcripts are never modified; add a version'); END;

-- Hash-chained, append-only (DESIGN.md invariants 6, 7).
CREATE TABLE access_log (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
    call_id INTEGER,
    case_id INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{{}}',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    opened_by TEXT NOT NULL,
    opened_ts REAL NOT NULL,
    reason TEXT NOT NULL,
    window_from_ts REAL NOT NULL,
    window_to_ts REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused', 'closed')),
    decided_by TEXT,
    decided_ts REAL,
    closed_ts REAL
);
CREATE TABLE case_calls (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    call_id INTEGER NOT NULL REFERENCES calls(id),
    attached_by TEXT NOT NULL,
    attached_ts REAL NOT NULL,
    PRIMARY KEY (case_id, call_id)
);

CREATE TABLE deletion_requests (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls(id),
    requested_by TEXT NOT NULL,
    requested_ts REAL NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by TEXT,
    decided_ts REAL
);

-- Coverage ledger (DESIGN.md invariant 3).
CREATE TABLE capture_sessions (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    started_ts REAL NOT NULL,
    heartbeat_ts REAL NOT NULL,
    ended_ts REAL,
    end_cause TEXT
);
CREATE TABLE gaps (
    id INTEGER PRIMARY KEY,
    start_ts REAL NOT NULL,
    end_ts REAL,
    cause TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX gaps_start ON gaps(start_ts);

CREATE TABLE retention_runs (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    purged INTEGER NOT NULL,
    held INTEGER NOT NULL
);
"""

# Health (issue 5): the exchange's call log, alert de-duplication, scheduled-job runs.
_V2 = """
-- Imports of the exchange's call log; only the span each import covers is reconciled.
CREATE TABLE cdr_imports (
    id INTEGER PRIMARY KEY,
    imported_ts REAL NOT NULL,
    actor TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    from_ts REAL NOT NULL,
    to_ts REAL NOT NULL,
    rows INTEGER NOT NULL
);
-- Exchange calls to the hotline number: times only, never the caller's number.
CREATE TABLE cdr_calls (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES cdr_imports(id),
    started_ts REAL NOT NULL,
    ended_ts REAL NOT NULL,
    UNIQUE (started_ts, ended_ts)
);
CREATE INDEX cdr_calls_started ON cdr_calls(started_ts);

-- Critical findings already alerted, kept until they clear.
CREATE TABLE alert_state (
    key TEXT PRIMARY KEY,
    check_name TEXT NOT NULL,
    message TEXT NOT NULL,
    first_ts REAL NOT NULL,
    last_ts REAL NOT NULL,
    sent_ts REAL
);

-- What the scheduler did with each health job: a check that stops running is a finding.
CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    job TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'missed')),
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_runs_job_ts ON job_runs(job, ts);

-- The daily report reads one day of the access log.
CREATE INDEX access_log_ts ON access_log(ts);
"""

# Evidence (issue 9): access-log format 2 (see ``_accesslog.py``) and the checkpoint count.
_V3 = """
ALTER TABLE access_log ADD COLUMN nonce TEXT;
ALTER TABLE access_log ADD COLUMN checkpoints INTEGER;
ALTER TABLE access_log ADD COLUMN sig TEXT;

-- Where format 1 ends: entries, calls and gaps up to these ids were written before the access log
-- carried call starts, gaps and signatures, so verify does not ask the log to explain them.
CREATE TABLE log_format (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    legacy_upto INTEGER NOT NULL,
    legacy_calls_upto INTEGER NOT NULL,
    legacy_gaps_upto INTEGER NOT NULL
);
INSERT INTO log_format (id, legacy_upto, legacy_calls_upto, legacy_gaps_upto) VALUES (1,
    (SELECT coalesce(max(seq), 0) FROM access_log),
    (SELECT coalesce(max(id), 0) FROM calls),
    (SELECT coalesce(max(id), 0) FROM gaps));

-- How many signed checkpoints went to the witness file, and the newest: a witness that is
-- missing or shorter than this was truncated or replaced.
CREATE TABLE checkpoint_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    written INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
"""

# Health (issue 10): when the recorder went into service, planned maintenance, one alert per outage.
_V4 = """
-- Facts about this installation (``in_service_since``: when 'callrec init' made the vault).
CREATE TABLE service_info (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO service_info (key, value)
    SELECT 'in_service_since', coalesce((SELECT min(started_ts) FROM capture_sessions), unixepoch('subsec'));

-- Planned maintenance announced by the maintainer: gaps inside are warnings, not criticals.
CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY,
    from_ts REAL NOT NULL,
    to_ts REAL NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_ts REAL NOT NULL,
    CHECK (to_ts > from_ts)
);

-- An alert is one outage: raised once, re-notified at most every renotify_hours, resolved once.
ALTER TABLE alert_state ADD COLUMN outage_ts REAL;
ALTER TABLE alert_state ADD COLUMN notified_ts REAL;
ALTER TABLE alert_state ADD COLUMN resolved_ts REAL;
"""

# Archive (issue 11): sealed audio of each closed day in a file of its own (``_periods.py``).
_V5 = """
-- One row per closed period file under ``<vault dir>/periods/``: its own random key (the file is
-- never re-encrypted; the key is protected by the hot file's encryption), the SHA-256 of the file
-- as entered into the access log (``period.close``/``period.amend``), and when it was last re-hashed.
CREATE TABLE periods (
    name TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    from_ts REAL NOT NULL,
    to_ts REAL NOT NULL,
    file TEXT NOT NULL UNIQUE,
    key BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    calls INTEGER NOT NULL,
    closed_ts REAL NOT NULL,
    verified_ts REAL NOT NULL,
    mtime_ns INTEGER NOT NULL
);
CREATE INDEX periods_to ON periods(to_ts);

-- Where a call's sealed audio is: NULL in the hot file (not yet closed), a period's name, or
-- 'held' when it was moved back to the hot file because a legal hold kept it past its period.
ALTER TABLE calls ADD COLUMN period TEXT;
CREATE INDEX calls_period ON calls(period) WHERE period IS NOT NULL;
CREATE INDEX calls_recording ON calls(started_ts) WHERE status = 'recording';

-- Numbers the archive keeps: 'max_call_s' bounds how far before a window a call can start, so
-- 'calls list' reads only the window through calls_started.
CREATE TABLE archive_state (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL
);
-- How far the chain was last verified by the health checks: the next check (and the daily report)
-- verifies only the entries after it, and that this entry still has this hash. 'callrec verify'
-- always re-verifies the whole chain.
CREATE TABLE chain_verified (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    ts REAL NOT NULL
);
INSERT INTO archive_state (key, value) VALUES ('max_call_s',
    (SELECT coalesce(max(max(ended_ts - started_ts, frames * 1.0 / sample_rate)), 0) FROM calls));
"""

# Incremental backups (issue 11): which rows changed, so a backup copies only those.
#: The tables migration 6 tracks; ``TRACKED_TABLES`` (below ``MIGRATIONS``) is every table a backup
#: carries (all but ``UNTRACKED_TABLES``). A table added by a later migration must get the same three
#: triggers there and join ``TRACKED_TABLES`` (tests/vault/test_backup_incremental.py).
_TRACKED_BY_V6 = (
    "users", "user_roles", "calls", "chunks", "sealed_audio", "transcripts", "access_log", "cases",
    "case_calls", "deletion_requests", "capture_sessions", "gaps", "retention_runs", "cdr_imports",
    "cdr_calls", "alert_state", "job_runs", "log_format", "checkpoint_state", "service_info",
    "maintenance_windows", "periods", "archive_state", "chain_verified",
)


def _tracking_triggers(tables: tuple[str, ...]) -> str:
    out = []
    for table in tables:
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            out.append(f"CREATE TRIGGER {table}_track_{event.lower()} AFTER {event} ON {table}\n"
                       f"BEGIN INSERT INTO row_changes (ts, tbl, key) VALUES (unixepoch('subsec'), '{table}', {row}.rowid); END;")
    return "\n".join(out)


_V6 = """
-- One row per inserted, updated or deleted row of a tracked table (its rowid), appended by the
-- triggers below. AUTOINCREMENT: ids never go back, also after pruning emptied the table, so a
-- backup's cursor (the newest id it holds) stays comparable.
CREATE TABLE row_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    tbl TEXT NOT NULL,
    key INTEGER NOT NULL
);
-- The generation names one lineage of rowids: it changes whenever rowids may have been renumbered
-- (a restore; a VACUUM, if the code ever runs one), so no backup applies changes across it.
-- ``pruned_upto``: the newest id deleted by pruning; a backup whose cursor is older gets a full copy.
CREATE TABLE change_tracking (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation TEXT NOT NULL,
    pruned_upto INTEGER NOT NULL
);
INSERT INTO change_tracking (id, generation, pruned_upto) VALUES (1, lower(hex(randomblob(16))), 0);
-- Empty in a vault; in a backup copy, the one row says which generation and change id it holds.
CREATE TABLE backup_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation TEXT NOT NULL,
    change_id INTEGER NOT NULL,
    ts REAL NOT NULL
);
""" + _tracking_triggers(_TRACKED_BY_V6)

#: Recognition-quality counts of a transcript, written with it (issue 11: ``calls list`` for a month
#: reads these instead of decoding every transcript's words). ``uncertain`` counts the words below
#: the threshold the service was configured with then, so a reader with another threshold, or a
#: transcript written before this migration (no row), falls back to counting from the words.
#: ``audio_s`` is the length of the audio the words came from (the call's, fixed once sealed).
#: A rowid table (not WITHOUT ROWID): backups track and copy rows by rowid (migration 6).
_V7 = """
CREATE TABLE transcript_counts (
    call_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    uncertain_below REAL NOT NULL,
    words INTEGER NOT NULL,
    uncertain INTEGER NOT NULL,
    audio_s REAL NOT NULL,
    PRIMARY KEY (call_id, version, channel),
    FOREIGN KEY (call_id, version, channel) REFERENCES transcripts(call_id, version, channel) ON DELETE CASCADE
);
""" + _tracking_triggers(("transcript_counts",))


# Lines (issue 20; migration 8).
#: A line is a number recorded from one source: calls (test calls are calls of kind 'test'), gaps
#: and capture sessions belong to one; rows written before lines existed belong to the line of a
#: config without ``[[lines]]``, ``main``.
#: ``call_numbers``: the numbers a signalling source saw for a call (remote withheld: NULL), kept
#: with the call and removed with its content; its ``call.numbers`` entry holds only HMACs of the
#: numbers, keyed with ``number_key.key`` (kept here, encrypted like every row, never logged) and
#: bound to the call id, so the chain proves the row without revealing a number or linking two
#: calls of the same number. ``tap_findings``: what a line's tap saw but could not record.
_V8_LINES = """
ALTER TABLE calls ADD COLUMN line TEXT NOT NULL DEFAULT 'main';
ALTER TABLE gaps ADD COLUMN line TEXT NOT NULL DEFAULT 'main';
ALTER TABLE capture_sessions ADD COLUMN line TEXT NOT NULL DEFAULT 'main';
CREATE INDEX calls_line_started ON calls(line, started_ts);
CREATE TABLE call_numbers (
    call_id INTEGER PRIMARY KEY REFERENCES calls(id),
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    remote_number TEXT,
    local_number TEXT NOT NULL
);
CREATE TABLE number_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL
);
INSERT INTO number_key (id, key) VALUES (1, randomblob(32));
-- What a line's tap saw but could not record (SIP over TCP/TLS, SRTP for the number): findings
-- of the daily report and the checks. The message holds no number.
CREATE TABLE tap_findings (
    id INTEGER PRIMARY KEY,
    line TEXT NOT NULL,
    ts REAL NOT NULL,
    check_name TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('ok', 'warning', 'critical')),
    message TEXT NOT NULL
);
CREATE INDEX tap_findings_line_ts ON tap_findings(line, ts);
""" + _tracking_triggers(("call_numbers", "number_key", "tap_findings"))


#: ``case_numbers``: the numbers a case is scoped to (issue 21); the reviewer reaches only calls in the
#: window whose remote number is one of them. Its ``case.open`` entry holds HMACs of the numbers
#: (keyed with ``number_key``, bound to the case id), never a number.
_V9_CASE_NUMBERS = """
CREATE TABLE case_numbers (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    number TEXT NOT NULL,
    PRIMARY KEY (case_id, number)
);
""" + _tracking_triggers(("case_numbers",))


# Operations that stay true (issue 19): an ops person's acknowledgement of an outage that is over,
# an admin's note on a past gap, and maintenance windows ended early or cancelled (never deleted).
_V10_OPS = """
-- 'callrec health ack CHECK': the outages of CHECK that ended before ts are seen (no longer a
-- WARNING in 'health check'; the daily report is unchanged).
CREATE TABLE health_acks (
    id INTEGER PRIMARY KEY,
    check_name TEXT NOT NULL,
    actor TEXT NOT NULL,
    ts REAL NOT NULL
);
-- 'callrec gap note': an admin's words on the gap holding at_ts; never changes its severity.
CREATE TABLE gap_notes (
    id INTEGER PRIMARY KEY,
    at_ts REAL NOT NULL,
    note TEXT NOT NULL,
    actor TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX gap_notes_at ON gap_notes(at_ts);
-- 'maintenance end ID' (to_ts moves to then; the announced end stays in announced_to_ts) and
-- 'maintenance cancel ID' (the window explains nothing; the row stays for the report).
ALTER TABLE maintenance_windows ADD COLUMN announced_to_ts REAL;
ALTER TABLE maintenance_windows ADD COLUMN ended_by TEXT;
ALTER TABLE maintenance_windows ADD COLUMN cancelled_ts REAL;
ALTER TABLE maintenance_windows ADD COLUMN cancelled_by TEXT;
""" + _tracking_triggers(("health_acks", "gap_notes"))


#: Trust anchors the data key cannot move (issue 18; migration 11): the point up
#: to which a clean run checked every signature, and the count of checkpoints written, each carry
#: a signature by the checkpoint key. An unsigned point is no point: the one left by an older
#: version is dropped, so the next check re-checks every signature and signs its own. The count
#: of an upgraded vault is signed by its next checkpoint.
_V11_ANCHORS = """
ALTER TABLE chain_verified ADD COLUMN sig TEXT;
DELETE FROM chain_verified;
ALTER TABLE checkpoint_state ADD COLUMN sig TEXT;
"""


#: Lean status (issue 22 item 1; number 12, standalone): 'callrec status', the metrics and the
#: test-call check read the transcription backlog and the newest test call from small partial
#: indexes instead of scanning every call (test calls: one index for any line, one per line, as
#: the planner otherwise walks calls_started or calls_line_started). The queries repeat these WHERE
#: terms word for word (SQLite uses a partial index only when the query's WHERE contains its terms).
_V12_LEAN_STATUS = """
CREATE INDEX IF NOT EXISTS calls_waiting ON calls(started_ts)
    WHERE transcript_status IN ('pending', 'running') AND status IN ('sealed', 'interrupted');
CREATE INDEX IF NOT EXISTS calls_test ON calls(started_ts) WHERE kind = 'test';
CREATE INDEX IF NOT EXISTS calls_test_line ON calls(line, started_ts) WHERE kind = 'test';
"""


MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8_LINES, _V9_CASE_NUMBERS, _V10_OPS, _V11_ANCHORS,
                               _V12_LEAN_STATUS)
TRACKED_TABLES = (*_TRACKED_BY_V6, "transcript_counts", "call_numbers", "number_key", "tap_findings", "case_numbers",
                  "health_acks", "gap_notes")
SCHEMA_VERSION = len(MIGRATIONS)
#: Tables that belong to one file and are never copied by a backup.
UNTRACKED_TABLES = ("row_changes", "change_tracking", "backup_state", "sqlite_sequence")
