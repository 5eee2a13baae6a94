"""Source kind ``sip``: the passive SIP/RTP tap of a mirrored port (``callrec.capture.sip``), or
a packet capture replayed through it, into the event-driven writer."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callrec.capture._calls_pipeline import CallsPipeline
from callrec.capture._kinds import SourceUnavailable
from callrec.config import Config, LineConfig
from callrec.vault import Vault

__all__ = ["open_pipeline", "open_source", "sip_settings"]


def _tap() -> Any:
    try:
        return importlib.import_module("callrec.capture.sip")
    except ImportError as exc:
        raise SourceUnavailable("?", "sip", f"the SIP tap is not installed: {exc.name}") from None


def sip_settings(line: LineConfig, settings_class: type) -> Any:
    """The tap's settings from the line: every key of the line that the tap knows, by name."""
    known = {f.name for f in dataclasses.fields(settings_class)}
    values = {"number": line.number, **dataclasses.asdict(line.sip)}
    return settings_class(**{k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items() if k in known})


def open_source(line: LineConfig, *, replay: Path | None = None) -> Any:
    tap = _tap()
    return tap.SipSource(sip_settings(line, tap.SipSourceSettings), pcap_file=replay)


def open_pipeline(config: Config, vault: Vault, line: LineConfig, source: Any,
                  on_sealed: Callable[[int], None] | None = None, *, guest_ok: bool = False) -> CallsPipeline:
    return CallsPipeline(config, vault, source, line, on_sealed, guest_ok=guest_ok)
