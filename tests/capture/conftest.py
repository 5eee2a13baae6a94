"""Capture test helpers: Japanese speech fixtures, synthetic feeds, replay through the real pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from callrec.capture import FileSource, Pipeline
from callrec.config import Config, load_config
from callrec.testing.synth import FeedBuilder, load_speech
from callrec.vault import Vault
from callrec.vault.calls import calls_started
from callrec.vault.ops import Gap, gaps_in
from tests.conftest import FIXTURES, write_config

#: 2026-08-03T08:30:00+09:00, the start of every replayed test feed.
T0 = 1785713400.0
AUDIO = FIXTURES / "audio"


@dataclass(frozen=True)
class CallRow:
    id: int
    start: float
    end: float
    seconds: float
    kind: str
    status: str
    flags: list[str]
    levels: dict


@pytest.fixture(scope="session")
def ja() -> list[np.ndarray]:
    """The three 8 kHz Japanese speech fixtures."""
    return [load_speech(AUDIO / f"ja_{i}.flac", 8000) for i in (1, 2, 3)]


@pytest.fixture
def make_config(tmp_path: Path):
    """A config (ASR off: capture tests do not decode) plus initialised vault; ``extra`` is TOML."""
    def make(extra: str = "", name: str = "cfg") -> Config:
        path = write_config(tmp_path / name, "[asr]\nenabled = false\n" + extra)
        config = load_config(path)
        Vault.initialise(config)[0].close()
        return config
    return make


def calls(config: Config) -> list[CallRow]:
    """Calls in the vault, times relative to T0."""
    with Vault.open(config) as vault:
        rows = sorted(calls_started(vault, float("-inf"), float("inf"), purged=True), key=lambda c: c.id)
    return [CallRow(c.id, c.started_ts - T0, (c.ended_ts or c.started_ts) - T0, c.duration_s, c.kind, c.status,
                    list(c.flags), c.levels) for c in rows]


def gaps(config: Config, end_s: float) -> list[Gap]:
    with Vault.open(config) as vault:
        return gaps_in(vault, T0, T0 + end_s)


def replay(config: Config, feed: FeedBuilder, tmp_path: Path, name: str = "feed.wav") -> list[CallRow]:
    """Write the feed and run the real pipeline over it (as ``callrec replay`` does)."""
    path = feed.write(tmp_path / name)
    with Vault.open(config) as vault:
        Pipeline(config, vault, FileSource(path, T0)).run()
    return calls(config)


def inside(span: tuple[float, float], rows: list[CallRow]) -> bool:
    return any(r.start <= span[0] and span[1] <= r.start + r.seconds for r in rows)
