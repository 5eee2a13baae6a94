"""What a command runs with: the config, the acting account, and where its output goes."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from callrec.access import Actor
    from callrec.config import Config
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
        from callrec.config import config_path

        return config_path(self.config_flag)

    @property
    def config(self) -> Config:
        if self._config is None:
            from callrec.config import load_config

            self._config = load_config(self.config_file)
        return self._config

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            from callrec.vault import Vault

            self._vault = Vault.open(self.config)
        return self._vault

    @property
    def person(self) -> Actor:
        from callrec.access import Actor

        return Actor.person(self.actor)

    def call(self, action: str, **args: Any) -> Any:
        """Run an access-layer action as this account: here when the data key is readable,
        otherwise through the daemon's socket. Returns the action's typed result.

        Only the module of that one use case is imported (``callrec.access.action``), and through
        the socket nothing of the vault: a listing or a status starts in a blink.
        """
        from callrec.access import action as find
        from callrec.cli._remote import request, use_socket

        if self.remote is None:
            self.remote = use_socket(self.config)
        if self.remote:
            return request(self.config.socket_path, find(action), args)
        return find(action).run(self.vault, self.person, **args)

    def print(self, *args: object) -> None:
        print(*args, file=self.out)

    def write(self, data: bytes) -> None:
        """UTF-8 bytes (JSON from :mod:`callrec.jsoncodec`) to the output, as they are when it is a file."""
        buffer = getattr(self.out, "buffer", None)
        if buffer is None:
            self.out.write(data.decode("utf-8"))
            return
        self.out.flush()
        buffer.write(data)
        buffer.flush()

    def close(self) -> None:
        if self._vault is not None:
            if self._vault.appended:
                self._vault.checkpoint()
            self._vault.close()
            self._vault = None
