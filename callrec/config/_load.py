"""Finding and reading the config file."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

from callrec.config._config import Config
from callrec.config._fields import build_section
from callrec.config._lines import build_lines
from callrec.errors import ConfigFileMissing, ConfigSyntaxError, ConfigUnknownKey

__all__ = ["DEFAULT_CONFIG", "config_path", "load_config"]

DEFAULT_CONFIG = Path("/etc/callrec/callrec.toml")


def config_path(flag: str | Path | None) -> Path:
    """``--config FILE``, else ``$CALLREC_CONFIG``, else ``/etc/callrec/callrec.toml``."""
    if flag:
        return Path(flag)
    env = os.environ.get("CALLREC_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigFileMissing(path) from None
    except IsADirectoryError:
        raise ConfigFileMissing(path) from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigSyntaxError(path, str(exc).splitlines()[0]) from None
    if "source" in table:
        raise ConfigUnknownKey(path, "source")
    lines = table.pop("lines", None)
    config = build_section(Config, table, path)  # [capture] is checked on its own first
    if lines is not None:
        config = dataclasses.replace(config, lines=build_lines(lines, table.get("capture", {}), path))
    state_dir = config.state_dir if config.state_dir.is_absolute() else (path.parent / config.state_dir).resolve()
    return dataclasses.replace(config, state_dir=state_dir, source=path)
