"""``calls list`` for a month on a five-year archive at production density (issue 11: ≤ 20 ms).

Builds once (kept in ``--cache``) a vault of 200 calls a day for ``--years``, with flags and
levels shaped like the segmenter's, a quarter of them transcribed ("done"); the calls of the month
listed that are transcribed get both channels' Vosk words (about two words a second of each
channel's active speech, some unknown or of low confidence), with the counts the transcriber stores
beside them. A vault built before those counts existed is listed the slow way (from the words). Then times,
in one run (median of several; wall and CPU, since on a shared machine the wall time also counts
time spent waiting for a core):

- ``calls.list``, the use case the CLI runs (in process) and the socket serves: the role check,
  the window query, the listing objects and the recognition-quality numbers — everything up to
  the result the CLI prints or the socket encodes (the goal is measured on this line);
- ``list_calls`` alone (the listing objects without the quality numbers, and without the pause of
  the garbage collector the use case makes around them);
- the bare window query on the same vault (the baseline: what SQLite alone costs);
- for scale, outside the goal: what the daemon then spends encoding that result for the socket
  (``encode_result`` and the reply line), and what ``calls list --json`` spends printing it.

Run: ``python bench/bench_calls_list.py [--years 5]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from callrec import jsoncodec
from callrec.access import Actor, CallList, perform
from callrec.access.wire import Rows, dumps_line, encode_result
from callrec.asr import transcript_counts
from callrec.config import load_config
from callrec.timefmt import format_ts
from callrec.vault import Vault
from callrec.vault.calls import add_transcript
from callrec.vault.calls._calls import _WINDOW, _bounds, list_calls
from callrec.vault.people import add_user

CALLS_A_DAY, MEAN_S = 200, 180
FLAGS = ["[]", "[]", "[]", '["short"]', '["one_sided"]', '["clipped", "short"]']
ENDS = ["silence", "tone", "hangup", "max_length"]
VOCABULARY = ["もしもし", "はい", "ありがとう", "ございます", "お願い", "します", "です", "そう", "ですね", "[unk]"]


def _levels(rng: np.random.Generator) -> str:
    return json.dumps({
        "speech_s": round(float(rng.gamma(2.0, 60.0)), 2),
        "active_s": [round(float(a), 2) for a in rng.gamma(2.0, 40.0, 2)],
        "peak_dbfs": [round(float(p), 1) for p in -rng.gamma(2.0, 3.0, 2)],
        "noise_floor_dbfs": round(float(-50 - rng.gamma(2.0, 4.0)), 1),
        "end": ENDS[int(rng.integers(len(ENDS)))],
    })


def _words(rng: np.random.Generator, active_s: float) -> list[dict]:
    n = int(active_s * 2)
    starts = np.sort(rng.random(n)) * active_s
    confs = np.minimum(1.0, rng.beta(8.0, 1.2, n))
    return [{"word": VOCABULARY[int(w)], "start": round(float(s), 2), "end": round(float(s) + 0.3, 2),
             "conf": round(float(c), 6)} for w, s, c in zip(rng.integers(len(VOCABULARY), size=n), starts, confs,
                                                             strict=True)]


def _month(vault: Vault) -> tuple[float, float]:
    (first, last) = vault.query("SELECT min(started_ts), max(started_ts) FROM calls")[0]
    middle = (first + last) / 2
    return middle, middle + 30 * 86400


def build(directory: Path, years: int) -> Path:
    """The vault's config file; the vault is built on the first run and reused after."""
    config_file = directory / "callrec.toml"
    if (directory / "built-with-words").exists():
        return config_file
    shutil.rmtree(directory / "state", ignore_errors=True)  # a vault of an older bench is not added to
    directory.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'state_dir = "{directory / "state"}"\n')
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    n = years * 365 * CALLS_A_DAY
    rng = np.random.default_rng(7)
    start = time.time() - years * 365 * 86400
    starts = start + np.sort(rng.random(n)) * years * 365 * 86400
    durations = rng.gamma(2.0, MEAN_S / 2.0, n)
    with vault.transaction() as conn:
        conn.executemany(
            "INSERT INTO calls (started_ts, ended_ts, sample_rate, channels, status, frames, pcm_sha256, flags, levels,"
            " transcript_status) VALUES (?, ?, 8000, 2, 'sealed', ?, '', ?, ?, ?)",
            ((float(t), float(t + d), int(d * 8000), FLAGS[i % len(FLAGS)], _levels(rng),
              ("done", "pending", "running", "failed")[i % 4])
             for i, (t, d) in enumerate(zip(starts, durations, strict=True))))
        conn.execute("UPDATE archive_state SET value = (SELECT max(ended_ts - started_ts) FROM calls)"
                     " WHERE key = 'max_call_s'")
    window = _month(vault)
    done = vault.query("SELECT id, levels, frames / 8000.0 FROM calls WHERE transcript_status = 'done' AND started_ts >= ? - 3600"
                       " AND started_ts < ?", window)
    for call_id, levels, audio_s in done:
        for channel, active_s in enumerate(json.loads(levels)["active_s"]):
            words = _words(rng, active_s)
            add_transcript(vault, call_id, channel, "vosk", "vosk-model-ja", "0" * 64, words,
                           "".join(w["word"] for w in words if w["word"] != "[unk]"),
                           transcript_counts(words, config.asr.uncertain_below, audio_s))
    add_user(vault, "admin", "ops", ["ops"])
    vault.close()
    (directory / "built-with-words").write_text(str(n))
    return config_file


def _timed(fn, *args, clock=time.perf_counter, **kwargs) -> float:
    t = clock()
    fn(*args, **kwargs)
    return clock() - t


def _median_ms(fn, *args, runs: int, **kwargs) -> tuple[float, float]:
    wall = statistics.median(_timed(fn, *args, **kwargs) for _ in range(runs))
    cpu = statistics.median(_timed(fn, *args, clock=time.process_time, **kwargs) for _ in range(runs))
    return wall * 1000, cpu * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "callrec-bench-calls-list")
    args = ap.parse_args()
    config = load_config(build(args.cache / f"{args.years}y", args.years))
    with Vault.open(config) as vault:
        (total,) = vault.query("SELECT count(*) FROM calls")[0]
        window = _month(vault)
        (max_call_s,) = vault.query("SELECT value FROM archive_state WHERE key = 'max_call_s'")[0]
        bounds = _bounds(*window, window[0] - float(max_call_s) - 1.0, 10**9)  # the whole window in one query
        request = {"from_iso": format_ts(window[0], config.zone), "to_iso": format_ts(window[1], config.zone)}
        ops = Actor.person("ops")
        calls = list(perform(vault, ops, "calls.list", request).calls)
        transcribed = sum(c["uncertain_share"] is not None for c in calls)
        use_case = _median_ms(lambda: list(perform(vault, ops, "calls.list", request).calls.pages()), runs=args.runs)
        objects = _median_ms(list_calls, vault, *window, config.zone, runs=args.runs)
        query = _median_ms(vault.query, _WINDOW, bounds, runs=args.runs)
        encoded = _median_ms(lambda: dumps_line({"v": 1, "rc": 0, "result": encode_result(
            CallList(Rows([calls]), "", ""), [], []), "frames": 0}) + jsoncodec.records(calls), runs=args.runs)
        printed = _median_ms(lambda: json.dumps(calls, ensure_ascii=False, indent=1), runs=args.runs)
        printed_now = _median_ms(lambda: jsoncodec.records(calls), runs=args.runs)
    print(f"calls list, 30 days in the middle of {total} calls ({len(calls)} listed, {transcribed} with"
          f" transcripts); median of {args.runs}, wall / CPU:")
    for name, (wall, cpu) in (("calls.list use case (goal ≤ 20 ms)", use_case), ("list_calls alone", objects),
                              ("the window query alone", query),                               ("then: the socket's reply (orjson pages)", encoded),
                              ("then: --json with json.dumps(indent=1)", printed),
                              ("then: --json with orjson, one a line", printed_now)):
        print(f"  {name:<36} {wall:7.1f} ms / {cpu:7.1f} ms   {wall / query[0]:5.1f}× the query")


if __name__ == "__main__":
    main()
