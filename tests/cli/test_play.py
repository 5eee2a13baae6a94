"""``callrec case play`` plays through sounddevice for real: ALSA's default PCM is a ``file`` plugin
over ``null`` (declared in an asoundrc in a temporary HOME), so the test can hear what was played."""

from __future__ import annotations

import time

import numpy as np

from callrec.vault.calls import CallRecorder
from callrec.vault.log import log_entries
from callrec.vault.people import add_user, decide_case
from tests.conftest import run_cli


def _find(haystack: np.ndarray, needle: np.ndarray) -> bool:
    starts = np.flatnonzero(haystack[: len(haystack) - len(needle) + 1] == needle[0])
    return any(np.array_equal(haystack[s:s + len(needle)], needle) for s in starts)


def test_reviewer_plays_an_attached_call_and_the_play_is_logged(vault, config_file, config, tmp_path):
    add_user(vault, "root", "root", ["reviewer"])
    add_user(vault, "root", "appr", ["approver"])
    rec = CallRecorder(vault)
    started = time.time() - 600
    call = rec.start_call(started, 8000, 1)
    audio = ((np.arange(8000 * 2) * 37) % 20000 - 10000).astype(np.int16)
    rec.append(call, audio)
    rec.seal(call)

    home = tmp_path / "home"
    home.mkdir()
    sink = tmp_path / "played.raw"
    (home / ".asoundrc").write_text(
        f'pcm.!default {{\n  type file\n  slave.pcm "null"\n  file "{sink}"\n  format "raw"\n}}\n')
    env = {"HOME": str(home)}

    refused = run_cli(config_file, "case", "play", str(call), env=env)
    assert refused.returncode == 4 and not sink.exists()

    opened = run_cli(config_file, "case", "open", "--reason", "verify what was said",
                     "--from", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started - 60)),
                     "--to", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started + 60)))
    assert opened.returncode == 0, opened.stderr
    case_id = int(opened.stdout.split()[1])
    decide_case(vault, "appr", case_id, approve=True)
    assert run_cli(config_file, "case", "attach", str(case_id), str(call)).returncode == 0

    played = run_cli(config_file, "case", "play", str(call), env=env, cwd=str(tmp_path))
    assert played.returncode == 0, played.stderr
    heard = np.fromfile(sink, dtype="<i2")
    assert _find(heard, audio), "the device did not receive the call's audio"
    sink.unlink()
    part = run_cli(config_file, "case", "play", str(call), "--from", "00:00.5", "--to", "0:01", env=env, cwd=str(tmp_path))
    assert part.returncode == 0, part.stderr
    heard = np.fromfile(sink, dtype="<i2")
    assert _find(heard, audio[4000:8000]) and not _find(heard, audio[3990:4010]) and not _find(heard, audio[7990:8010])
    assert run_cli(config_file, "case", "play", str(call), "--from", "0:02", "--to", "0:01").returncode == 2
    nowhere = run_cli(config_file, "case", "play", str(call), "--device", "no-such-device", env=env, cwd=str(tmp_path))
    assert nowhere.returncode != 0 and "playing" not in nowhere.stdout, nowhere.stdout  # the error comes first
    assert len(nowhere.stderr.strip().splitlines()) == 1, nowhere.stderr
    plays = [e for e in log_entries(vault) if e.action == "play"]
    assert [(e.actor, e.call_id, e.case_id, e.outcome) for e in plays] == [("root", call, None, "refused"),
                                                                           ("root", call, case_id, "ok"),
                                                                           ("root", call, case_id, "ok"),
                                                                           ("root", call, case_id, "ok")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["callrec.toml", "home", "played.raw", "state"]
