"""A case of calls sealed before the log's format 2: exported, but honestly not provable offline."""

from __future__ import annotations

from callrec.config import load_config
from callrec.evidence import build_case_package, verify_package
from callrec.vault import Vault
from tests.vault.legacy import legacy_vault


def test_a_call_sealed_before_the_upgrade_is_named_as_not_provable_offline(tmp_path):
    config = load_config(legacy_vault(tmp_path))
    with Vault.open(config) as vault:
        package = build_case_package(vault, "alice", 1, "flac", config)
    findings = verify_package(dict(package.files))
    assert any(f.startswith("call 1: sealed in access-log entry") and "cannot be proven offline" in f for f in findings)
    assert not any(f.startswith("file ") or "signature" in f for f in findings)  # the rest of the package holds
    assert "did NOT verify" in dict(package.files)["index.html"].decode()
