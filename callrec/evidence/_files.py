"""The files of a package, from a directory or from memory, read only as far as needed.

A directory is walked without following anything: symlinks, fifos, sockets, devices, empty
folders and names that are not UTF-8 are findings, never opened. Sizes come from ``lstat``, so a
file the manifest does not list, or lists with another size, is reported without reading a byte
(a 3 GB sparse file costs nothing); a listed file is hashed in blocks, and only files that the
manifest's sizes allow are ever read whole.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile

__all__ = ["PackageFiles", "scan_package", "pcm_sha256_of"]

_BLOCK = 1 << 20
_MAX_DEPTH = 8
_MAX_ENTRIES = 100_000


@dataclass
class PackageFiles:
    """Regular files by relative POSIX name with their sizes, and what the walk found wrong."""

    sizes: dict[str, int]
    findings: list[str] = field(default_factory=list)
    root: Path | None = None
    memory: Mapping[str, bytes] | None = None

    @classmethod
    def from_memory(cls, files: Mapping[str, bytes]) -> PackageFiles:
        return cls({name: len(data) for name, data in files.items()}, memory=files)

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        """The file for reading; refuses one that changed into something else since the walk."""
        if self.memory is not None:
            yield io.BytesIO(self.memory[name])
            return
        fd = os.open(self.root / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != self.sizes[name]:
            os.close(fd)
            raise OSError(f"{name} changed while it was being checked")
        with os.fdopen(fd, "rb") as handle:
            yield handle

    def read(self, name: str, limit: int) -> bytes:
        """The whole file, when it is at most ``limit`` bytes (``ValueError`` otherwise)."""
        if self.sizes[name] > limit:
            raise ValueError(f"file {name} is {self.sizes[name]} bytes, more than the {limit} a package's {name} may be")
        with self.open(name) as handle:
            return handle.read(limit + 1)

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.open(name) as handle:
            while block := handle.read(_BLOCK):
                digest.update(block)
        return digest.hexdigest()

    def pcm_sha256(self, name: str) -> str:
        with self.open(name) as handle:
            return pcm_sha256_of(handle)


def pcm_sha256_of(audio: bytes | BinaryIO) -> str:
    """SHA-256 over the decoded audio as interleaved little-endian int16 (what a seal hashes),
    decoded block by block."""
    source = io.BytesIO(audio) if isinstance(audio, bytes | bytearray) else audio
    digest = hashlib.sha256()
    with soundfile.SoundFile(source) as sound:
        for block in sound.blocks(blocksize=65536, dtype="int16", always_2d=True):
            digest.update(np.ascontiguousarray(block, dtype="<i2").tobytes())
    return digest.hexdigest()


def _walk(root: Path, prefix: str, depth: int, out: PackageFiles) -> None:
    try:
        entries = sorted(os.scandir(root / prefix if prefix else root), key=lambda e: e.name)
    except OSError as exc:
        out.findings.append(f"folder {prefix or '.'} cannot be read ({exc.strerror})")
        return
    if not entries and prefix:
        out.findings.append(f"folder {prefix} is empty (not part of a package)")
    for entry in entries:
        name = f"{prefix}/{entry.name}" if prefix else entry.name
        if len(out.sizes) + len(out.findings) > _MAX_ENTRIES:
            out.findings.append(f"more than {_MAX_ENTRIES} files: not a case package")
            return
        _one(root, entry, name, depth, out)


def _one(root: Path, entry: os.DirEntry, name: str, depth: int, out: PackageFiles) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        out.findings.append(f"a file name under {os.path.dirname(name) or '.'!r} is not UTF-8 (added)")
        return
    info = entry.stat(follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        out.findings.append(f"file {name} is a symbolic link (a package holds only regular files)")
    elif stat.S_ISDIR(info.st_mode):
        if depth >= _MAX_DEPTH:
            out.findings.append(f"folder {name} is nested deeper than a package's {_MAX_DEPTH} levels")
        else:
            _walk(root, name, depth + 1, out)
    elif stat.S_ISREG(info.st_mode):
        out.sizes[name] = info.st_size
    else:
        out.findings.append(f"file {name} is a special file (fifo, socket or device), not part of a package")


def scan_package(directory: Path) -> PackageFiles:
    """Walk ``directory`` without following links or opening anything."""
    out = PackageFiles({}, root=directory)
    _walk(directory, "", 0, out)
    return out
