"""What a command runs with: the config, the acting account, and where its output goes."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from callrec.access import ACTIONS, Actor, perform
from callrec.cli._remote import request, use_socket
from callrec.config import Config, config_path, load_config
from callrec.vault import Vault

__all__ = ["Context"]


@dataclass
class Context:
    config_flag: str | None
    actor: str
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    #: True when actions go to the daemon's socket (this account cannot read the data key);
    #: None until the first action decides it.
    remote: bool | None = None
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

    @property
    def person(self) -> Actor:
        return Actor.person(self.actor)

    def call(self, action: str, **args: Any) -> Any:
        """Run an access-layer action as this account: here when the data key is readable,
        otherwise through the daemon's socket. Returns the action's typed result."""
        if self.remote is None:
            self.remote = use_socket(self.config)
        if self.remote:
            return request(self.config.socket_path, ACTIONS[action], args)
        return perform(self.vault, self.person, action, args)

    def print(self, *args: object) -> None:
        print(*args, file=self.out)

    def close(self) -> None:
        if self._vault is not None:
            if self._vault.appended:
                self._vault.checkpoint()
            self._vault.close()
            self._vault = None
