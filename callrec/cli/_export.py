"""Writing a case export: the evidence package, built and signed by the vault's side
(``callrec.evidence``), written here into the caller's own directory."""

from __future__ import annotations

import os
from pathlib import Path

from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.evidence import CasePackage, build_case_package

__all__ = ["export_case", "write_package"]


def _check_target(out: str) -> Path:
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"export directory {path} is not empty: choose a new directory")
    return path


def write_package(package: CasePackage, target: Path) -> None:
    """Write every file of the package under ``target`` (made if missing); never overwrite a file."""
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, data in package.files:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise UsageError(f"package file name {name!r} leaves the export directory")
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def export_case(ctx: Context, case_id: int, out: str, fmt: str) -> dict:
    """Build the package and write it; returns its manifest."""
    target = _check_target(out)  # before any read is logged; made only once the package is built
    package = build_case_package(ctx.vault, ctx.actor, case_id, fmt, ctx.config)
    write_package(package, target)
    return package.manifest
