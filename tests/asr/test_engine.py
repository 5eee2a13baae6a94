"""Real decoding with the real Korean Vosk model on synthesised Korean speech."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import vosk

from callrec.asr import Engine, active_model, import_model
from tests.asr.conftest import KO_MODEL, hardlink_copy, make_config

pytestmark = pytest.mark.slow


def _check_words(words: list[dict], duration_s: float) -> None:
    assert words, "no words decoded"
    for before, after in itertools.pairwise(words):
        assert after["start"] >= before["start"]
        assert after["start"] >= before["end"] - 1e-6
    for w in words:
        assert 0.0 <= w["start"] <= w["end"] <= duration_s + 0.05
        assert 0.0 <= w["conf"] <= 1.0 and w["word"]


@pytest.fixture(scope="module")
def engine(models_dir, tmp_path_factory):
    return Engine(active_model(make_config(tmp_path_factory.mktemp("engine"), models_dir)))


@pytest.fixture(scope="module")
def no_upsample_engine(tmp_path_factory):
    """The Korean model with ``--allow-upsample`` removed, like the Japanese small model."""
    tmp = tmp_path_factory.mktemp("noup")
    src = hardlink_copy(KO_MODEL, tmp / "src")
    conf = src / "conf" / "mfcc.conf"
    lines = [line for line in conf.read_text().splitlines() if "allow-upsample" not in line]
    conf.unlink()  # the file is a hard link into site-packages: replace it, never edit it in place
    conf.write_text("\n".join(lines) + "\n")
    info = import_model(make_config(tmp), src, name="ko-noup", language="ko")
    return Engine(info)


def test_16k_speech_decodes_to_words_inside_the_call(engine, ko_speech):
    audio = ko_speech(16000)
    (words,) = engine.transcribe([audio.reshape(-1, 1)], 16000, 1)
    _check_words(words, len(audio) / 16000)


def test_8k_audio_is_refused_by_the_model_without_upsampling(no_upsample_engine, ko_speech):
    rec = vosk.KaldiRecognizer(no_upsample_engine.model, 8000.0)
    with pytest.raises(Exception, match="Failed to process waveform"):
        rec.AcceptWaveform(ko_speech(8000)[:8000].tobytes())


def test_8k_speech_is_resampled_and_decodes(no_upsample_engine, ko_speech):
    assert no_upsample_engine.sample_rate == 16000
    audio = ko_speech(8000)
    blocks = [audio[i:i + 3000].reshape(-1, 1) for i in range(0, len(audio), 3000)]  # ragged, like FLAC blocks
    (words,) = no_upsample_engine.transcribe(blocks, 8000, 1)
    _check_words(words, len(audio) / 8000)
    assert words[-1]["end"] > 0.5 * len(audio) / 8000, "times must be in call seconds, not resampled samples"


def test_stereo_channels_are_decoded_separately(engine, ko_speech):
    speech = ko_speech(8000)
    stereo = np.stack([np.zeros_like(speech), speech], axis=1)
    silent, spoken = engine.transcribe([stereo], 8000, 2)
    assert silent == []
    _check_words(spoken, len(speech) / 8000)
