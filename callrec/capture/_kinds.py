"""Sources as plugins: each kind of line source is one module and one entry of ``SOURCE_KINDS``.

A kind's module offers two functions:

- ``open_source(line, *, replay=None)``: the source of ``line`` (live, or over a recorded file
  ``replay`` where the kind can read one); raises a ``CaptureError`` naming what is wrong;
- ``open_pipeline(config, vault, line, source, on_sealed, *, guest_ok=False)``: the writer that
  records it. A continuous-audio source (sound card, WAV/FLAC) goes through the segmenter
  (:class:`~callrec.capture.Pipeline`); a signalling source, whose events say when calls start
  and end, goes to :class:`~callrec.capture.CallsPipeline`.

Both writers offer ``start``, ``stop``, ``join``, ``started``, ``alive``, ``sealed`` and
``line_state``: the daemon's supervisor runs one per line without knowing its kind.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callrec.config import Config, LineConfig
from callrec.vault import Vault

__all__ = ["SOURCE_KINDS", "open_line_pipeline", "open_line_source"]

#: Source kind (``[[lines]] source``) → the module that implements it.
SOURCE_KINDS: dict[str, str] = {
    "sound": "callrec.capture._kind_sound",
    "sip": "callrec.capture._kind_sip",
}


def _kind(line: LineConfig) -> Any:
    return importlib.import_module(SOURCE_KINDS[line.source])


def open_line_source(line: LineConfig, *, replay: Path | None = None) -> Any:
    """The source of ``line``, live or (``replay``) over a recorded file."""
    return _kind(line).open_source(line, replay=replay)


def open_line_pipeline(config: Config, vault: Vault, line: LineConfig, source: Any,
                       on_sealed: Callable[[int], None] | None = None, *, guest_ok: bool = False) -> Any:
    """The writer that records ``source`` into ``line`` (not started)."""
    return _kind(line).open_pipeline(config, vault, line, source, on_sealed, guest_ok=guest_ok)
