"""The data key: 32 random bytes kept as 64 hex digits in a file only the service account reads.

The key never enters the vault, a log line or an error message (DESIGN.md invariant 10).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from callrec.errors import KeyFileInvalid, KeyFileMissing, KeyFileUnreadable

__all__ = ["create_key_file", "read_key_file"]

KEY_BYTES = 32


def create_key_file(path: Path) -> None:
    """Write a new random key; refuses to overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(KEY_BYTES) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyFileMissing(path) from None
    except PermissionError:
        raise KeyFileUnreadable(path) from None
    except (UnicodeDecodeError, IsADirectoryError):
        raise KeyFileInvalid(path) from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyFileInvalid(path) from None
    if len(key) != KEY_BYTES:
        raise KeyFileInvalid(path)
    return key
