"""``callrec replay CAPTURE.pcap --line NAME``: a SIP line's packet capture through the real tap in
file mode and the event-driven writer, in a real process: concurrent calls each sealed with their
audio sample for sample per channel, the DTMF test call, a call to another number left out, the
numbers stored and proven by the chain, and no number in any output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.archive import sealed_flac
from callrec.vault.calls import decode_flac, get_calls
from callrec.vault.people import add_user, call_numbers
from tests.capture.sip.pcapgen import EXCHANGE_IP, OTHER, Call, write_pcap
from tests.capture.sip.tapcheck import assert_carries
from tests.conftest import run_cli, write_config

START = 1_790_000_000.0  # 2026-09-21, a past day
LINE = """
[asr]
enabled = false
[[lines]]
name = "hotline"
number = "03-1234-5678"
source = "sip"
interface = "span0"
"""
REMOTES = ("09011112222", "09055556666", "09077778888")


def _calls() -> list[Call]:
    first = Call(call_id="a@192.0.2.10", start=START, seconds=4.0, caller=REMOTES[0], dtmf="*0*0#").build()
    second = Call(call_id="b@192.0.2.11", start=START + 1.0, seconds=2.0, caller=REMOTES[1], from_tag="tag-c",
                  caller_rtp=("192.0.2.11", 40010), callee_rtp=(EXCHANGE_IP, 50010), codec="pcma").build()
    other = Call(call_id="c@192.0.2.12", start=START + 1.5, seconds=1.0, caller=REMOTES[2], callee=OTHER,
                 from_tag="tag-d", caller_rtp=("192.0.2.12", 40020), callee_rtp=(EXCHANGE_IP, 50020)).build()
    return [first, second, other]


@pytest.fixture
def replayed(tmp_path):
    config_file = write_config(tmp_path, LINE)
    assert run_cli(config_file, "init").returncode == 0
    calls = _calls()
    pcap = tmp_path / "outage.pcap"
    write_pcap(pcap, [p for c in calls for p in c.packets])
    done = run_cli(config_file, "replay", str(pcap), "--line", "hotline", "--no-asr")
    return config_file, calls, done


def test_a_capture_replays_into_the_line_each_call_sealed_on_its_own(replayed):
    config_file, (first, second, _), done = replayed
    assert done.returncode == 0, done.stderr
    assert "2 call(s) sealed, 1 of them test call(s)" in done.stdout
    config = load_config(config_file)
    with Vault.open(config) as vault:
        ids = [r[0] for r in vault.query("SELECT id FROM calls")]
        test, real = sorted(get_calls(vault, ids), key=lambda c: c.started_ts)
        for call, sent in ((test, first), (real, second)):
            assert (call.line, call.status, call.channels, call.levels["end"]) == ("hotline", "sealed", 2, "bye")
            pcm = np.concatenate(list(decode_flac(sealed_flac(vault, call.id))))
            for channel in (0, 1):
                assert_carries(pcm[:, channel], sent.sent[channel])
        assert (test.kind, real.kind) == ("test", "call")
        numbers = call_numbers(vault, real.id)
        assert (numbers.direction, numbers.remote, numbers.local) == ("in", "+819055556666", "+81312345678")
        add_user(vault, "root", "root", ["ops", "admin"])
    assert run_cli(config_file, "verify").returncode == 0


def test_no_number_in_what_replay_and_the_listings_print(replayed):
    config_file, _, done = replayed
    outputs = [done.stdout + done.stderr]
    with Vault.open(load_config(config_file)) as vault:
        add_user(vault, "root", "root", ["ops", "admin"])
    for argv in (["calls", "list", "--from", "2026-09-01", "--to", "2026-10-01", "--json"],
                 ["health", "report", "--date", "2026-09-21", "--json"], ["status", "--json"], ["verify"]):
        result = run_cli(config_file, *argv)
        outputs.append(result.stdout + result.stderr)
    listed = json.loads(outputs[1])
    assert [c["line"] for c in listed] == ["hotline", "hotline"]
    for text in outputs:
        for number in (*REMOTES, "0312345678", "1234-5678"):
            for shape in (number, number.lstrip("0"), "+81" + number.lstrip("0")):
                assert shape not in text


def test_a_line_that_does_not_exist_is_one_line_naming_the_lines(tmp_path):
    config_file = write_config(tmp_path, LINE)
    assert run_cli(config_file, "init").returncode == 0
    done = run_cli(config_file, "replay", str(tmp_path / "x.pcap"), "--line", "nope")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "hotline" in done.stderr


def test_the_replay_covers_the_captures_span_and_the_same_capture_twice_is_refused(replayed, tmp_path):
    config_file, calls, done = replayed
    assert done.returncode == 0, done.stderr
    first_packet = min(ts for c in calls for ts, _ in c.packets)
    last_packet = max(ts for c in calls for ts, _ in c.packets)
    with Vault.open(load_config(config_file)) as vault:
        ((line, started, ended),) = vault.query("SELECT line, started_ts, ended_ts FROM capture_sessions")
    assert line == "hotline" and abs(started - first_packet) < 0.01 and abs(ended - last_packet) < 0.01
    again = run_cli(config_file, "replay", str(tmp_path / "outage.pcap"), "--line", "hotline", "--no-asr")
    assert again.returncode != 0 and again.stderr.count("\n") == 1 and "already holds 2 call(s)" in again.stderr
    forced = run_cli(config_file, "replay", str(tmp_path / "outage.pcap"), "--line", "hotline", "--no-asr", "--force")
    assert forced.returncode == 0, forced.stderr
    with Vault.open(load_config(config_file)) as vault:
        assert vault.query("SELECT count(*) FROM access_log WHERE action = 'replay.force'")[0][0] == 1


def test_a_file_that_is_no_capture_is_one_line_and_records_nothing(tmp_path):
    config_file = write_config(tmp_path, LINE)
    assert run_cli(config_file, "init").returncode == 0
    bad = tmp_path / "notes.pcap"
    bad.write_text("not a packet capture\n")
    done = run_cli(config_file, "replay", str(bad), "--line", "hotline")
    assert done.returncode != 0 and done.stderr.count("\n") == 1 and "cannot read packet capture" in done.stderr
    with Vault.open(load_config(config_file)) as vault:
        assert vault.query("SELECT count(*) FROM capture_sessions")[0][0] == 0
