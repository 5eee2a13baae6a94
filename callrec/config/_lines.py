"""``[[lines]]``: the numbers recorded, each from one source.

A line is a number recorded from a source. Its table holds ``name``, ``number``, ``source`` and
the source's own keys: for ``"sound"`` the ``[capture]`` keys (over the ``[capture]`` section's
values), for ``"sip"`` the tap's keys (:class:`SipLineConfig`); a SIP line also reads the
``[capture]`` keys that are not about the sound card (``test_dtmf``, ``heartbeat_s``, ``queue_s``,
``short_call_s``). A config without ``[[lines]]`` is one sound-card line named ``main`` from
``[capture]``, exactly as before lines existed.

The line's own number is configuration, not a caller's detail, but it is still never repeated in
an error message: messages name the key, never the value.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from callrec.config._capture import CaptureConfig
from callrec.config._fields import build_section, check
from callrec.errors import ConfigBadValue, ConfigUnknownKey, ConfigWrongType

__all__ = ["DEFAULT_LINE", "LINE_SOURCES", "LineConfig", "SipLineConfig", "build_lines", "default_line"]

#: The line of a config without ``[[lines]]``; rows written before lines existed belong to it.
DEFAULT_LINE = "main"
#: Source kinds a line may name (``callrec.capture``'s registry has a module for each).
LINE_SOURCES = ("sound", "sip")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
#: A number as people write it: national ``0…`` or E.164 ``+…``, digits with ``-``, spaces, dots
#: or brackets between them (the tap normalises it).
_NUMBER = re.compile(r"\+?[0-9](?:[0-9 ().-]*[0-9])?")


@dataclass(frozen=True)
class SipLineConfig:
    """The passive SIP/RTP tap's keys of a ``source = "sip"`` line (names as the tap's settings)."""

    #: The network interface the switch mirrors the exchange's traffic to (no IP address needed).
    interface: str = ""
    #: For turning national numbers (``03…``) into E.164 (``+813…``).
    country_code: str = field(default="81", metadata=check(lambda v: v.isdigit() and 1 <= len(v) <= 3,
                                                            "must be 1 to 3 digits, e.g. \"81\""))
    #: Dialled before a country code (Japan ``010``).
    international_prefix: str = field(default="010", metadata=check(lambda v: v.isdigit(), "must be digits, e.g. \"010\""))
    #: Which calls are recorded: ``"in"`` (the number was called), ``"out"`` (the line called out).
    directions: list[str] = ("in", "out")
    #: A call with no RTP in either direction for this long has ended (``rtp_timeout``).
    rtp_timeout_s: float = field(default=60.0, metadata=check(lambda v: 1 <= v <= 3600, "must be between 1 and 3600 seconds"))
    #: The same while the call is on hold (sendonly/inactive): music on hold may send nothing.
    hold_timeout_s: float = field(default=3600.0, metadata=check(lambda v: 1 <= v <= 86400,
                                                                 "must be between 1 and 86400 seconds"))
    #: A call offered but neither answered nor refused for this long is given up.
    ring_timeout_s: float = field(default=300.0, metadata=check(lambda v: 1 <= v <= 3600,
                                                                "must be between 1 and 3600 seconds"))
    #: No packet at all on the interface for this long is a gap ``tap_silent``.
    tap_idle_s: float = field(default=300.0, metadata=check(lambda v: 1 <= v <= 86400,
                                                            "must be between 1 and 86400 seconds"))
    #: Ports SIP is read on.
    sip_ports: list[int] = (5060,)
    #: Added to the kernel BPF filter with ``and (...)``, e.g. ``"host 192.0.2.10"`` (the exchange).
    bpf_filter: str = ""
    #: The kernel's capture buffer: a mirror at 10,000 packets/s needs a few MB to ride out stalls.
    buffer_bytes: int = field(default=32 * 1024 * 1024, metadata=check(lambda v: 1 << 20 <= v <= 1 << 31,
                                                                       "must be between 1 MiB and 2 GiB"))

    def problem(self) -> str | None:
        if not self.directions or not set(self.directions) <= {"in", "out"}:
            return "directions must list \"in\", \"out\" or both"
        if not all(0 < p < 65536 for p in self.sip_ports):
            return "sip_ports must be UDP port numbers"
        return None


@dataclass(frozen=True)
class LineConfig:
    name: str
    #: The line's own number (national ``0…`` or E.164 ``+…``); "" for the line of ``[capture]``.
    number: str
    #: A kind of source: ``"sound"`` or ``"sip"``.
    source: str
    capture: CaptureConfig = CaptureConfig()
    sip: SipLineConfig | None = None


def default_line(capture: CaptureConfig) -> LineConfig:
    """The one sound-card line of a config without ``[[lines]]``."""
    return LineConfig(DEFAULT_LINE, "", "sound", capture)


_CAPTURE_KEYS = {f.name for f in dataclasses.fields(CaptureConfig)}
_SIP_KEYS = {f.name for f in dataclasses.fields(SipLineConfig)}
_LINE_KEYS = {"name", "number", "source"}


def _text(table: dict, key: str, file: Path, where: str) -> str:
    if key not in table:
        raise ConfigBadValue(file, f"{where}.{key}", "is required for every line")
    value = table[key]
    if not isinstance(value, str):
        raise ConfigWrongType(file, f"{where}.{key}", "a string", type(value).__name__)
    return value


def _line(table: object, index: int, capture_table: dict, file: Path) -> LineConfig:
    where = f"lines[{index}]"
    if not isinstance(table, dict):
        raise ConfigWrongType(file, where, "a table ([[lines]])", type(table).__name__)
    for key in table:
        if key not in _LINE_KEYS | _CAPTURE_KEYS | _SIP_KEYS:
            raise ConfigUnknownKey(file, f"{where}.{key}")
    name, number, source = (_text(table, k, file, where) for k in ("name", "number", "source"))
    if not _NAME.fullmatch(name):
        raise ConfigBadValue(file, f"{where}.name", "must be 1-32 of a-z 0-9 _ - starting with a letter or digit")
    if not _NUMBER.fullmatch(number) or sum(c.isdigit() for c in number) < 3:
        raise ConfigBadValue(file, f"{where}.number", "must be the line's number: digits (national 0... or E.164 +...), - or spaces between them")
    if source not in LINE_SOURCES:
        raise ConfigBadValue(file, f"{where}.source", f"must be one of {', '.join(LINE_SOURCES)}")
    sip_keys = {k: v for k, v in table.items() if k in _SIP_KEYS}
    if source != "sip" and sip_keys:
        raise ConfigBadValue(file, f"{where}.{min(sip_keys)}", "is a key of source = \"sip\" lines only")
    capture = build_section(CaptureConfig, {**capture_table, **{k: v for k, v in table.items() if k in _CAPTURE_KEYS}},
                            file, prefix=f"{where}.")
    sip = None
    if source == "sip":
        sip = build_section(SipLineConfig, sip_keys, file, prefix=f"{where}.")
        if not sip.interface:
            raise ConfigBadValue(file, f"{where}.interface", "a SIP line needs the mirrored network interface")
    return LineConfig(name, number, source, capture, sip)


def build_lines(tables: object, capture_table: dict, file: Path) -> tuple[LineConfig, ...]:
    """The ``[[lines]]`` of a config file, validated: one-line errors naming the key and the file."""
    if not isinstance(tables, list) or not tables:
        raise ConfigWrongType(file, "lines", "an array of tables ([[lines]])", type(tables).__name__)
    lines = tuple(_line(t, i, capture_table, file) for i, t in enumerate(tables))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.name in seen:
            raise ConfigBadValue(file, f"lines[{i}].name", "names another line already: each line needs its own name")
        seen.add(line.name)
    return lines
