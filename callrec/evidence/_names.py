"""File names and format identifiers of a case package (``docs/design/evidence.md``)."""

from __future__ import annotations

__all__ = ["PACKAGE_FORMAT", "MANIFEST", "MANIFEST_SIG", "CHAIN", "CHECKPOINT", "PUBLIC_KEY", "PLAYER", "UNLISTED"]

PACKAGE_FORMAT = "callrec-evidence/1"
MANIFEST = "manifest.json"
#: Hex Ed25519 signature over the exact bytes of ``manifest.json``.
MANIFEST_SIG = "manifest.sig"
CHAIN = "proof/chain.json"
CHECKPOINT = "proof/checkpoint.json"
PUBLIC_KEY = "proof/signing-key.pem"
PLAYER = "index.html"
#: The only files the manifest does not list (it cannot list itself or its signature).
UNLISTED = (MANIFEST, MANIFEST_SIG)
