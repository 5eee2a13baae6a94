#!/usr/bin/env python3
"""Build callrec/demo/feed.flac: a short line feed to try ``callrec replay`` on.

Line hiss, then three calls made from the Japanese speech fixtures: a call ended by the caller
hanging up (busy tone), the ops test call (DTMF *0*0#, then a few words, busy tone) and a short
wrong number (busy tone). A stray click on the idle line in between is not a call.

    python tools/make_demo_feed.py [--out callrec/demo/feed.flac]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from callrec.testing.synth import FeedBuilder, load_speech

REPO = Path(__file__).resolve().parent.parent
AUDIO = REPO / "tests" / "fixtures" / "audio"


def build() -> FeedBuilder:
    ja = [load_speech(AUDIO / f"ja_{i}.flac", 8000) for i in (1, 2, 3)]
    feed = FeedBuilder(rate=8000, channels=1, hiss_dbfs=-80.0, seed=2026)
    feed.hiss(3.0).speech(ja[0]).hiss(0.8).speech(ja[1]).hiss(0.6).speech(ja[2][: len(ja[2]) // 2]).hiss(1.0)
    feed.busy_tone(3.0).hiss(3.0)
    feed.click().hiss(3.0)
    feed.dtmf("*0*0#").hiss(0.5).speech(ja[2]).hiss(1.0).busy_tone(3.0).hiss(3.0)
    feed.speech(ja[1][: len(ja[1]) // 2]).hiss(0.5).busy_tone(2.5).hiss(2.0)
    return feed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "callrec" / "demo" / "feed.flac")
    out = parser.parse_args().out
    feed = build()
    feed.write(out, format="FLAC")
    print(f"{out}: {feed.now_s:.1f} s, {out.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
