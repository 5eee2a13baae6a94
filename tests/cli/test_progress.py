"""Progress on stderr for a person at a terminal, nothing for scripts: real commands run with
stderr on a pseudo-terminal, and again with stderr in a pipe."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
from pathlib import Path

import pytest
import soundfile

from callrec.asr import import_model
from callrec.config import load_config
from callrec.vault import Vault
from tests.asr.conftest import KO_MODEL, make_config
from tests.asr.conftest import record_call as record_speech
from tests.conftest import FIXTURES, record_call, run_cli, write_config

FEED = FIXTURES / "audio" / "ja_1.flac"
START = "2026-08-03T08:30:00+09:00"


def on_terminal(config_file: Path, *argv: str, columns: int = 100) -> tuple[int, str, str]:
    """(exit code, stdout, what the terminal got) of ``callrec ARGV`` with stderr on a new pty
    ``columns`` wide (0: a pty that reports no size, as a bare serial console does)."""
    master, slave = os.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "CALLREC_CONFIG"}
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), *argv],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=slave, env=env, cwd="/")
        os.close(slave)
        terminal = b""
        try:
            while chunk := os.read(master, 65536):
                terminal += chunk
        except OSError:  # EIO: the command closed its end of the terminal
            pass
        finally:
            os.close(master)
        rc = proc.wait(timeout=120)
        out.seek(0)
        return rc, out.read().decode(), terminal.decode(errors="replace")


@pytest.fixture
def site(tmp_path):
    config_file = write_config(tmp_path)
    assert run_cli(config_file, "init").returncode == 0
    return config_file


def test_replay_draws_a_bar_of_audio_seconds_on_a_terminal_and_nothing_in_a_pipe(site):
    rc, out, terminal = on_terminal(site, "replay", str(FEED), "--start", START, "--no-asr")
    assert rc == 0, terminal
    assert "replay ja_1.flac:" in terminal and "/3.9 [" in terminal and "%|" in terminal
    assert "replayed 3.9 s of ja_1.flac" in out and "%|" not in out, "the bar stays off stdout"
    piped = run_cli(site, "replay", str(FEED), "--start", "2026-08-03T09:30:00+09:00", "--no-asr")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith("replaying ja_1.flac")


@pytest.mark.parametrize("columns", [100, 0])
def test_verify_shows_what_it_does_and_for_how_long_on_a_terminal(site, columns):
    with Vault.open(load_config(site)) as vault:
        record_call(vault, seconds=2)
    rc, out, terminal = on_terminal(site, "verify", columns=columns)
    assert rc == 0, out + terminal
    assert "verify: checking the vault" in terminal and "00:00" in terminal
    assert out.startswith("ok: integrity")
    piped = run_cli(site, "verify")
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout == out


def test_backup_restore_and_rekey_show_progress_only_on_a_terminal(site, tmp_path):
    for argv, shown in ((("backup", str(tmp_path / "a.db")), "backup: copying and checking the vault"),
                        (("restore", str(tmp_path / "a.db")), "restore: checking and installing the backup"),
                        (("rekey",), "rekey: re-encrypting the vault")):
        rc, out, terminal = on_terminal(site, *argv)
        assert rc == 0, out + terminal
        assert f"{shown}: 00:0" in terminal and shown not in out
    for argv in (("backup", str(tmp_path / "b.db")), ("restore", str(tmp_path / "b.db")), ("rekey",)):
        piped = run_cli(site, *argv)
        assert piped.returncode == 0 and piped.stderr == "", piped.stderr


def test_model_import_shows_what_it_does_only_on_a_terminal(site, tmp_path):
    model = tmp_path / "tiny"
    for rel, data in {"am/final.mdl": b"mdl", "conf/mfcc.conf": b"--sample-frequency=8000\n",
                      "conf/model.conf": b"--beam=10\n", "graph/HCLG.fst": b"fst", "graph/words.txt": b"a 1\n"}.items():
        (model / rel).parent.mkdir(parents=True, exist_ok=True)
        (model / rel).write_bytes(data)
    rc, out, terminal = on_terminal(site, "model", "import", str(model), "--name", "one", "--language", "ja")
    assert rc == 0, terminal
    assert "model import: hashing, unpacking and checking tiny: 00:0" in terminal
    assert out.startswith("imported model one")
    piped = run_cli(site, "model", "import", str(model), "--name", "two", "--language", "ja")
    assert piped.returncode == 0 and piped.stderr == ""


@pytest.fixture(scope="module")
def ko_models(tmp_path_factory) -> Path:
    """A models folder holding the real Korean model, active."""
    config = make_config(tmp_path_factory.mktemp("ko-models"))
    import_model(config, KO_MODEL, name="ko", activate=True)
    return config.models_path


@pytest.mark.slow
def test_asr_eval_counts_files_on_a_terminal_and_not_in_a_pipe(tmp_path, ko_models):
    config = make_config(tmp_path, ko_models)
    texts = json.loads((FIXTURES / "audio" / "fixtures.json").read_text(encoding="utf-8"))["files"]
    evalset = tmp_path / "set"
    evalset.mkdir()
    for name in ("ko_1.flac", "ko_1_16k.flac"):
        shutil.copy(FIXTURES / "audio" / name, evalset / name)
        (evalset / name).with_suffix(".txt").write_text(texts[name]["text"], encoding="utf-8")
    rc, out, terminal = on_terminal(config.source, "asr", "eval", str(evalset), "--json")
    assert rc == 0, terminal
    assert "asr eval:" in terminal and "0/2 [" in terminal and "file" in terminal
    assert [f["name"] for f in json.loads(out)["files"]] == ["ko_1.flac", "ko_1_16k.flac"]
    piped = run_cli(config.source, "asr", "eval", str(evalset), "--json")
    assert piped.returncode == 0 and piped.stderr == ""


@pytest.mark.slow
def test_retranscribe_all_now_counts_calls_with_the_real_model(tmp_path, ko_models):
    config = make_config(tmp_path, ko_models)
    speech, rate = soundfile.read(FIXTURES / "audio" / "ko_1_16k.flac", dtype="int16")
    vault, _ = Vault.initialise(config)
    with vault:
        for _ in range(2):
            record_speech(vault, speech, rate)
    assert run_cli(config.source, "init").returncode == 0
    rc, out, terminal = on_terminal(config.source, "retranscribe", "--all", "--now")
    assert rc == 0, out + terminal
    assert "transcribing:" in terminal and "0/2 [" in terminal and "2/2 [" in terminal
    assert out.splitlines() == ["queued 0 call(s) for transcription", "transcribed 2 call(s): 2 done"], \
        "the two recorded calls were waiting already; --now transcribes them"
    piped = run_cli(config.source, "retranscribe", "--all", "--now")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.splitlines() == ["queued 2 call(s) for transcription", "transcribed 2 call(s): 2 done"]

