"""The whole configuration and where every file lives.

Every path defaults to a place under ``state_dir``; a relative path in the file is taken
relative to ``state_dir``.
"""

from __future__ import annotations

import os
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from callrec.config._asr import AsrConfig
from callrec.config._capture import CaptureConfig
from callrec.config._fields import check
from callrec.config._health import HealthConfig
from callrec.config._lines import LineConfig, default_line
from callrec.config._retention import CasesConfig, RetentionConfig
from callrec.config._ui import UiConfig

__all__ = ["Config", "CREDENTIAL_NAME"]

#: Name of the systemd credential (``LoadCredential=vault-key:...``) that holds the data key.
CREDENTIAL_NAME = "vault-key"
#: Name of the systemd credential that holds the Ed25519 checkpoint (signing) key.
SIGNING_CREDENTIAL_NAME = "checkpoint-key"


def _valid_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Config:
    state_dir: Path = Path("/var/lib/callrec")
    vault: Path | None = None
    key_file: Path | None = None
    checkpoint_key: Path | None = None
    witness_file: Path | None = None
    models_dir: Path | None = None
    reports_dir: Path | None = None
    socket: Path | None = None
    #: Where each checkpoint's signed head is sent for the system journal (journald serves it).
    syslog_socket: Path = Path("/dev/log")
    #: Local time zone of the office: report days and displayed times.
    timezone: str = field(default="Asia/Tokyo", metadata=check(_valid_zone, "must be an IANA time zone such as Asia/Tokyo"))
    capture: CaptureConfig = CaptureConfig()
    asr: AsrConfig = AsrConfig()
    health: HealthConfig = HealthConfig()
    retention: RetentionConfig = RetentionConfig()
    cases: CasesConfig = CasesConfig()
    ui: UiConfig = UiConfig()
    #: ``[[lines]]`` as written; empty for a config without it (see :attr:`recorded_lines`).
    lines: tuple[LineConfig, ...] = field(default=(), compare=False)
    #: The file this config was read from (for messages); not a TOML key.
    source: Path = field(default=Path("<defaults>"), compare=False)

    def _under_state(self, value: Path | None, default: str) -> Path:
        path = value if value is not None else Path(default)
        return path if path.is_absolute() else self.state_dir / path

    @property
    def recorded_lines(self) -> tuple[LineConfig, ...]:
        """The lines recorded: ``[[lines]]``, else the one sound-card line ``main`` of ``[capture]``."""
        return self.lines or (default_line(self.capture),)

    def line(self, name: str) -> LineConfig | None:
        return next((line for line in self.recorded_lines if line.name == name), None)

    @property
    def vault_path(self) -> Path:
        return self._under_state(self.vault, "vault.db")

    @property
    def key_path(self) -> Path:
        """The data key: the systemd credential when the unit provides one, else the key file.

        The daemon gets the key as a credential (``LoadCredential=vault-key:<key_file>``), so the
        key file itself can stay readable by root alone.
        """
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if creds and (Path(creds) / CREDENTIAL_NAME).exists():
            return Path(creds) / CREDENTIAL_NAME
        return self._under_state(self.key_file, "vault.key")

    @property
    def checkpoint_key_path(self) -> Path:
        """The signing key: the systemd credential when the unit provides one, else the key file
        (root-only in production, so that vault readers cannot take it; docs/design/vault.md)."""
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if creds and (Path(creds) / SIGNING_CREDENTIAL_NAME).exists():
            return Path(creds) / SIGNING_CREDENTIAL_NAME
        return self._under_state(self.checkpoint_key, "checkpoint.ed25519")

    @property
    def witness_path(self) -> Path:
        return self._under_state(self.witness_file, "witness.log")

    @property
    def status_path(self) -> Path:
        """The daemon's status file, beside its socket (no content; world-readable)."""
        return self.socket_path.with_name(self.socket_path.name + ".status.json")

    @property
    def models_path(self) -> Path:
        return self._under_state(self.models_dir, "models")

    @property
    def reports_path(self) -> Path:
        return self._under_state(self.reports_dir, "reports")

    @property
    def socket_path(self) -> Path:
        return self._under_state(self.socket, "callrec.sock")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)
