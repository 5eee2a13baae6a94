"""End to end: ``callrec run`` with a SIP line, in the tap's namespace behind a real passive mirror,
records real SIPp calls — two at once, then the DTMF test call — into the vault, each sealed on its
own; the sealed audio is what each side streamed, sample for sample, per channel. The daemon's
status names the line, and nothing it prints holds a number."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.archive import sealed_flac
from callrec.vault.calls import decode_flac, get_calls
from callrec.vault.people import call_numbers
from tests.capture.sip.conftest import EXCHANGE_IP2
from tests.capture.sip.tapcheck import assert_carries
from tests.conftest import run_cli, write_config

LINE = "0312345678"
#: SIPp plays RFC 4733 digits from one pcap per digit, each with the same RTP timestamps, so a
#: digit repeated (the default *0*0#) looks like a retransmission; a test pattern of distinct digits.
TEST_DTMF = "19#"
CALLERS = ("09011112222", "0311112222")


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _line_states(config) -> list[tuple[str, str]]:
    path = config.socket_path.with_name(config.socket_path.name + ".status.json")
    try:
        return [(s["line"], s["device_state"]) for s in json.loads(path.read_text()).get("lines", [])]
    except (OSError, ValueError):
        return []


def _sealed(config, count: int) -> bool:
    with Vault.open(config) as vault:
        return vault.query("SELECT count(*) FROM calls WHERE status = 'sealed'")[0][0] >= count


def test_callrec_run_records_real_calls_from_the_mirror(sip_lab, tmp_path):
    config_file = write_config(tmp_path / "rec", f'[asr]\nenabled = false\n[capture]\ntest_dtmf = "{TEST_DTMF}"\n'
                                                 f'[[lines]]\nname = "hotline"\nnumber = "{LINE}"\nsource = "sip"\n'
                                                 f'interface = "{sip_lab.tap_interface}"\nrtp_timeout_s = 10\n')
    assert run_cli(config_file, "init").returncode == 0
    config = load_config(config_file)
    daemon = sip_lab.in_tap([sys.executable, "-m", "callrec", "--config", str(config_file), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait(lambda: _line_states(config) == [("hotline", "capturing")], 30), "the daemon never captured"
        first = sip_lab.call(LINE, caller=CALLERS[0], seconds=2.5, wait=False)
        time.sleep(0.7)
        second = sip_lab.call(LINE, caller=CALLERS[1], codec="PCMA", seconds=1.5, address=EXCHANGE_IP2, wait=False)
        assert first.wait(60) == 0 and second.wait(60) == 0
        sip_lab.call(LINE, dtmf=TEST_DTMF, seconds=0.5, exchange_seconds=3.0)
        assert _wait(lambda: _sealed(config, 3), 30), "the calls were not sealed"
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    with Vault.open(config) as vault:
        ids = [r[0] for r in vault.query("SELECT id FROM calls")]
        one, two, test = sorted(get_calls(vault, ids), key=lambda c: c.started_ts)
        assert two.started_ts < one.ended_ts, "the calls did not overlap"
        for call, placed in ((one, first.placed), (two, second.placed)):
            assert (call.line, call.kind, call.status, call.levels["end"]) == ("hotline", "call", "sealed", "bye")
            pcm = np.concatenate(list(decode_flac(sealed_flac(vault, call.id))))
            for channel in (0, 1):
                assert_carries(pcm[:, channel], placed.sent[channel])
        assert (test.kind, test.status) == ("test", "sealed")
        assert call_numbers(vault, two.id).remote == "+81311112222"
        assert vault.query("SELECT line, source, end_cause FROM capture_sessions") == [
            ("hotline", f"sip:{sip_lab.tap_interface}", "stopped")]
    for caller in (*CALLERS, LINE):
        assert caller not in err and caller[1:] not in err


def _frames_committed(config) -> int:
    with Vault.open(config) as vault:
        return vault.query("SELECT coalesce(sum(frames), 0) FROM chunks")[0][0]


def test_a_killed_daemon_leaves_the_call_that_its_restart_seals_interrupted(sip_lab, tmp_path):
    config_file = write_config(tmp_path / "rec", f'[asr]\nenabled = false\n[[lines]]\nname = "hotline"\n'
                                                 f'number = "{LINE}"\nsource = "sip"\n'
                                                 f'interface = "{sip_lab.tap_interface}"\n')
    assert run_cli(config_file, "init").returncode == 0
    config = load_config(config_file)
    argv = [sys.executable, "-m", "callrec", "--config", str(config_file), "run"]
    daemon = sip_lab.in_tap(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait(lambda: _line_states(config) == [("hotline", "capturing")], 30)
    call = sip_lab.call(LINE, caller=CALLERS[0], seconds=6.0, wait=False)
    assert _wait(lambda: _frames_committed(config) >= 2 * 8000, 30), "no audio committed during the call"
    daemon.kill()  # SIGKILL: no seal, no session end
    daemon.wait(10)
    killed_at = time.time()
    held = _frames_committed(config)
    daemon = sip_lab.in_tap(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait(lambda: _line_states(config) == [("hotline", "capturing")], 30)
        assert call.wait(60) == 0
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=60)
    with Vault.open(config) as vault:
        (row,) = vault.query("SELECT status, line, frames, started_ts FROM calls")
        gaps = vault.query("SELECT cause, line FROM gaps")
    status, line, frames, started = row
    assert (status, line) == ("interrupted", "hotline")
    assert frames >= held and started + frames / 8000 > killed_at - 1.5  # at most about a second lost
    assert ("crash", "hotline") in gaps
