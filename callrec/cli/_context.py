"""What a command runs with: the config, the acting account, and where its output goes."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from callrec.config import Config, config_path, load_config
from callrec.vault import Vault

__all__ = ["Context"]


@dataclass
class Context:
    config_flag: str | None
    actor: str
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    #: True when the command arrived through the daemon's socket.
    remote: bool = False
    _config: Config | None = None
    _vault: Vault | None = None

    @property
    def config_file(self) -> Path:
        return config_path(self.config_flag)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_file)
        return self._config

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = Vault.open(self.config)
        return self._vault

    def print(self, *args: object) -> None:
        print(*args, file=self.out)

    def close(self) -> None:
        if self._vault is not None:
            if self._vault.appended:
                self._vault.checkpoint()
            self._vault.close()
            self._vault = None
