"""Writing what the daemon returned, in the caller's own process: as the caller, relative to the
caller's working directory, private (directories 0700, files 0600), never inside the state
directory, never over an existing file."""

from __future__ import annotations

import os
from pathlib import Path

from callrec.config import Config
from callrec.errors import UsageError

__all__ = ["export_target", "make_private_dir", "write_into", "write_private_file"]


def _outside_state(path: Path, config: Config) -> Path:
    """The absolute target; refused when it is inside the state directory (the vault, keys, reports)."""
    target = Path(os.path.realpath(path))
    state = Path(os.path.realpath(config.state_dir))
    if target == state or state in target.parents:
        raise UsageError(f"{path} is inside the state directory {config.state_dir}: choose a place of your own")
    return target


def export_target(path: str | Path, config: Config) -> Path:
    """Where an export goes: refused before anything is read when it is inside the state directory
    or not a new or empty directory."""
    target = _outside_state(Path(path), config)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"export directory {path} is not empty: choose a new directory")
    return target


def make_private_dir(target: Path) -> Path:
    """Create the export directory (0700) once there is something to write into it."""
    try:
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(target, 0o700)
    except OSError as exc:
        raise UsageError(f"export directory {target} cannot be created ({exc.strerror})") from None
    return target


def write_into(directory: Path, name: str, data: bytes) -> None:
    """Write a new file ``name`` (plain names joined by ``/``, from the daemon) under ``directory``, 0600;
    subdirectories are made 0700."""
    parts = name.split("/")
    if any(not p or p in (".", "..") or "\x00" in p for p in parts):
        raise UsageError(f"the daemon sent a file name that is not a plain name ({name[:40]!r}): nothing more is written")
    for depth in range(1, len(parts)):
        sub = directory.joinpath(*parts[:depth])
        sub.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(directory.joinpath(*parts), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_private_file(path: str | Path, data: bytes, config: Config) -> Path:
    """Write ``data`` to the new file ``path`` (0600); an existing file is never replaced."""
    target = _outside_state(Path(path), config)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} already exists: choose a new file") from None
    except OSError as exc:
        raise UsageError(f"{path} cannot be written ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return target
