"""A state directory written by callrec main at b59ec2b (schema 2, access-log format 1).

The fixture holds the vault, its data key, signing key and witness file: three calls (one purged),
a transcript, people (alice reviewer, bob approver), an approved case with reads, and a gap.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from tests.conftest import FIXTURES, write_config

__all__ = ["legacy_vault"]


def legacy_vault(tmp_path: Path, fixture: str = "vault-main-b59ec2b.tar.gz") -> Path:
    """Unpack the fixture under ``tmp_path``; returns the config file naming it. Fixtures:
    ``vault-main-b59ec2b.tar.gz`` (above) and ``vault-main-ff77548.tar.gz`` (schema 4, format 2:
    24 calls over 70 days with transcripts, three purged, an approved case with reads, a gap)."""
    config_file = write_config(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    with tarfile.open(FIXTURES / fixture) as tar:
        tar.extractall(state)  # noqa: S202 - our own fixture
    return config_file
