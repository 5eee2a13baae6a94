"""``callrec asr eval``: error rates and speed of the real Korean model on espeak-ng speech with its
source text, made by tools/make_eval_set.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callrec.asr import cer, reference_words
from tests.asr.conftest import make_config
from tests.conftest import REPO, run_cli


def _make_set(out: Path, *args: str) -> Path:
    subprocess.run([sys.executable, str(REPO / "tools" / "make_eval_set.py"), str(out), *args],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def eval_config(tmp_path_factory, models_dir):
    """Only a models folder: no vault, no key (eval must not need them)."""
    return make_config(tmp_path_factory.mktemp("eval"), models_dir)


def _eval(config, directory: Path, *args: str) -> dict:
    done = run_cli(config.source, "asr", "eval", str(directory), "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_clean_wideband_scores_better_than_noisy_telephone_audio(tmp_path, eval_config):
    clean = _eval(eval_config, _make_set(tmp_path / "clean16"))
    noisy = _eval(eval_config, _make_set(tmp_path / "noisy8", "--rate", "8000", "--snr-db", "5"))
    for result in (clean, noisy):
        assert result["model"] == "ko" and result["language"] == "ko"
        assert len(result["files"]) == 4
        for row in [*result["files"], result["total"]]:
            assert 0.0 <= row["cer"] <= 1.0 and 0.0 <= row["wer"] <= 1.0
            assert row["rtf"] > 0 and row["duration_s"] > 3
    assert clean["total"]["cer"] < noisy["total"]["cer"] - 0.05, (clean["total"], noisy["total"])
    assert not (tmp_path / "eval" / "state" / "vault.db").exists()


@pytest.mark.slow
def test_a_reference_that_does_not_match_scores_about_one(tmp_path, eval_config):
    good = _make_set(tmp_path / "good")
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    shutil.copy(good / "ko_1.wav", wrong / "x.wav")
    (wrong / "x.txt").write_text("다람쥐 헌 쳇바퀴에 타고파. 키스의 고유 조건은 입술끼리 만나야 하고\n", encoding="utf-8")
    shutil.copy(good / "ko_1.wav", wrong / "y.wav")  # no reference beside it: not scored
    result = _eval(eval_config, wrong)
    assert [f["name"] for f in result["files"]] == ["x.wav"]
    assert result["total"]["cer"] >= 0.9 and result["total"]["wer"] == 1.0
    table = run_cli(eval_config.source, "asr", "eval", str(wrong)).stdout.splitlines()
    assert table[0].startswith("model ko (") and table[1].split() == ["file", "seconds", "CER", "WER", "RTF"]
    assert [row.split()[0] for row in table[2:]] == ["x.wav", "total"]


def test_bad_sets_are_refused_with_one_line_before_decoding(tmp_path, eval_config):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli(eval_config.source, "asr", "eval", str(empty))
    assert done.returncode == 6 and done.stderr.count("\n") == 1 and "x.txt" in done.stderr
    done = run_cli(eval_config.source, "asr", "eval", str(tmp_path / "missing"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    (empty / "a.wav").write_bytes(b"not audio")
    (empty / "a.txt").write_text("안녕\n", encoding="utf-8")
    done = run_cli(eval_config.source, "asr", "eval", str(empty), "--model", "nope")
    assert done.returncode == 6 and "nope" in done.stderr and done.stderr.count("\n") == 1
    done = run_cli(eval_config.source, "asr", "eval", str(empty))
    assert done.returncode == 6 and "a.wav" in done.stderr and done.stderr.count("\n") == 1


def test_japanese_cer_ignores_spaces_punctuation_and_width():
    assert cer("今日は、いい天気。ＡＢＣ", "今日 は いい 天気 ABC") == 0.0
    assert cer("今日は", "明日も") == pytest.approx(2 / 3)


def test_wer_words_ignore_case_width_and_punctuation():
    assert reference_words("Hello, ＷＯＲＬＤ!  안녕하세요.") == ["hello", "world", "안녕하세요"]
