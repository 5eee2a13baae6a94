"""Source kind ``sound``: a sound card through the segmenter (the line of ``[capture]``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from callrec.capture._pipeline import Pipeline
from callrec.capture._sources import DeviceSource
from callrec.config import Config, LineConfig
from callrec.errors import UsageError
from callrec.vault import Vault

__all__ = ["open_pipeline", "open_source"]


def open_source(line: LineConfig, *, replay: Path | None = None) -> DeviceSource:
    if replay is not None:
        raise UsageError(f"line {line.name} records a sound card: replay a WAV or FLAC feed with --start instead")
    return DeviceSource(line.capture)


def open_pipeline(config: Config, vault: Vault, line: LineConfig, source: DeviceSource,
                  on_sealed: Callable[[int], None] | None = None, *, guest_ok: bool = False) -> Pipeline:
    """The segmenter's writer, with the line's own ``[capture]`` keys."""
    return Pipeline(dataclasses.replace(config, capture=line.capture), vault, source, on_sealed, guest_ok=guest_ok,
                    line=line.name)
