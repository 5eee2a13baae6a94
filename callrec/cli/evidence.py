"""``callrec evidence verify DIR``: check a case package with nothing but the package.

Needs no config, vault or key: it never touches ``ctx.config`` or ``ctx.vault``, and ``evidence``
is never forwarded to the daemon (``_remote.LOCAL_ONLY_COMMANDS``).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.errors import IntegrityError, UsageError

LOCAL_ONLY = True
_FINGERPRINT = re.compile(r"^[0-9a-fA-F]{64}$")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evidence", help="case packages: check one offline")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    v = s.add_parser("verify", help="check a case package: files, audio, chain, signatures (no config, vault or key)")
    v.add_argument("directory", metavar="DIR")
    v.add_argument("--key-fingerprint", metavar="HEX", help="the published fingerprint of the office's signing key")
    v.add_argument("--json", action="store_true",
                   help="one object: ok, findings, files, case, calls, checkpoint_seq, key_fingerprint, fingerprint_compared")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from callrec.evidence import check_package, scan_package

    directory = Path(args.directory)
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory: give the folder of an exported case package")
    if args.key_fingerprint is not None and not _FINGERPRINT.match(args.key_fingerprint.strip()):
        raise UsageError("--key-fingerprint must be 64 hex digits, as printed by 'callrec key show'")
    report = check_package(scan_package(directory), args.key_fingerprint)
    manifest = report.manifest
    if args.json:
        print_json(ctx, {"ok": not report.findings, "findings": report.findings, "files": report.files,
                         "case": manifest and manifest.case.id, "calls": manifest and len(manifest.calls),
                         "checkpoint_seq": manifest and manifest.checkpoint_seq,
                         "key_fingerprint": manifest and manifest.key_fingerprint,
                         "fingerprint_compared": args.key_fingerprint is not None})
        return IntegrityError.exit_code if report.findings else 0
    for line in report.findings:
        ctx.print(line)
    if report.findings:
        return IntegrityError.exit_code
    key = (" (the published fingerprint)" if args.key_fingerprint
           else "; not compared with the published fingerprint: pass --key-fingerprint")
    ctx.print(f"ok: case {manifest.case.id}: {report.files} files, the audio of {len(manifest.calls)} call(s)"
              f" and the chain proof to checkpoint {manifest.checkpoint_seq} hold, signed by key"
              f" {manifest.key_fingerprint}{key}")
    return 0
