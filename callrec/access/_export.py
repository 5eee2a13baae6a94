"""A case export: the evidence package, built and signed entirely on the service side
(:mod:`callrec.evidence`) as named files; the caller's own process writes them.

Each call's audio and transcript reads are logged before their bytes are put in the package
(DESIGN.md invariant 6); the signed manifest names every file with its SHA-256 and the access-log
entry that authorised it.
"""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.evidence import build_case_package
from callrec.vault import Vault

__all__ = ["ExportFile", "ExportPackage", "build_export", "export"]


@dataclass(frozen=True)
class ExportFile:
    #: A relative path of plain names (e.g. ``proof/chain.json``) inside the caller's target folder.
    name: str
    data: bytes


@dataclass(frozen=True)
class ExportPackage:
    case_id: int
    key_fingerprint: str
    files: list[ExportFile]


def build_export(vault: Vault, actor: Actor, case_id: int, fmt: str) -> ExportPackage:
    """The evidence package of one approved case of ``actor``."""
    package = build_case_package(vault, actor.log_name, case_id, fmt, vault.config)
    return ExportPackage(case_id, package.key_fingerprint, [ExportFile(name, data) for name, data in package.files])


@use_case("export")
def export(vault: Vault, actor: Actor, *, case_id: int, format: str = "flac") -> ExportPackage:  # noqa: A002 - the CLI's --format
    return build_export(vault, actor, case_id, format)
