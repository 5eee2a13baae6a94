"""``calls list`` objects built in bulk are the objects a per-row formatting of the same calls gives:
times in the zone across a daylight-saving change and at rounding edges, calls still recording,
flags and levels, the queue's 'running' shown as pending, purged calls."""

from __future__ import annotations

import json
import time
from zoneinfo import ZoneInfo

import numpy as np

from callrec.timefmt import format_ts
from callrec.vault.archive import run_retention
from callrec.vault.calls import CallRecorder, claim_next, get_call, list_calls

LONDON = ZoneInfo("Europe/London")
#: 2026-10-25 01:00 UTC: London goes from +01:00 back to +00:00 (02:00 local becomes 01:00).
FALL_BACK = 1792890000.0


def _per_row(vault, call_id: int, zone) -> dict:
    """One call as ``calls list --json`` shows it, formatted from its record one call at a time."""
    call = get_call(vault, call_id)
    return {
        "id": call.id,
        "started_at": format_ts(call.started_ts, zone),
        "ended_at": format_ts(call.ended_ts, zone),
        "duration_s": round(call.frames / call.sample_rate, 3),
        "kind": call.kind,
        "status": call.status,
        "channels": call.channels,
        "sample_rate": call.sample_rate,
        "transcript_status": "purged" if call.status == "purged" else
        {"running": "pending"}.get(call.transcript_status, call.transcript_status),
        "flags": list(call.flags),
        "levels": call.levels,
    }


def _call(rec: CallRecorder, started: float, seconds: float, channels: int = 1, seal: bool = True, **summary) -> int:
    call = rec.start_call(started, 8000, channels)
    audio = np.random.default_rng(int(started) % 1000).standard_normal((int(seconds * 8000), channels)) * 2000
    rec.append(call, audio.astype(np.int16))
    if seal:
        rec.seal(call, started + seconds + 0.0123456, **summary)
    return call


def test_the_bulk_listing_equals_the_per_row_formatting_of_varied_calls(vault):
    rec = CallRecorder(vault)
    levels = {"speech_s": 12.34, "active_s": [10.5, 0.25], "peak_dbfs": [-3.1, -60.0], "noise_floor_dbfs": -55.5,
              "end": "silence"}
    ids = [
        _call(rec, FALL_BACK - 1800.25, 1.0),
        # Rounds up to the next whole second, which is the change itself.
        _call(rec, FALL_BACK - 4e-7, 0.5, flags=["short"], levels=levels),
        _call(rec, FALL_BACK + 1799.9996, 2.0, channels=2, kind="test", flags=["one_sided", "clipped"],
              levels={**levels, "end": "tone"}),
        _call(rec, FALL_BACK + 86400 * 3 + 0.9995, 0.2, flags=["short"], levels=levels),
        # Purged below by retention: its transcript shows as purged.
        _call(rec, time.time() - 400 * 86400, 0.3),
        # Claimed by the transcriber: shown as pending.
        _call(rec, time.time() - 120.5, 0.4),
    ]
    ids.append(_call(rec, time.time() - 30.0, 0.3, seal=False))
    run_retention(vault, time.time(), 365)
    claimed = claim_next(vault)
    assert get_call(vault, claimed.call_id).transcript_status == "running"
    oldest_first = sorted(ids, key=lambda c: (get_call(vault, c).started_ts, c))
    for zone in (LONDON, ZoneInfo("Asia/Tokyo"), ZoneInfo("America/St_Johns")):
        listed = list_calls(vault, 0, time.time() + 60, zone)
        assert listed == [_per_row(vault, c, zone) for c in oldest_first]
        assert json.dumps(listed) == json.dumps([_per_row(vault, c, zone) for c in oldest_first])
    by_id = {c["id"]: c for c in list_calls(vault, 0, time.time() + 60, LONDON)}
    assert by_id[ids[1]]["started_at"] == "2026-10-25T01:00:00.000+00:00"
    assert by_id[ids[0]]["started_at"] == "2026-10-25T01:29:59.750+01:00"
    assert by_id[ids[4]]["status"] == by_id[ids[4]]["transcript_status"] == "purged"
    assert by_id[claimed.call_id]["transcript_status"] == "pending"
    assert by_id[ids[-1]]["ended_at"] is None and by_id[ids[-1]]["status"] == "recording"
