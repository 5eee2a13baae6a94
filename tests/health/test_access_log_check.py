"""The ``access_log`` health check holds the chain to the same standard as ``callrec verify``:
every entry's signature, and a witness file that must be there."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callrec.health import run_checks
from callrec.vault._accesslog import append  # the attacker's tool: an entry without the signing key
from callrec.vault.people import add_user


def _access_log(vault, config) -> list[str]:
    now = time.time()
    return [f.message for f in run_checks(vault, config, start=now, end=now, live=True, now=now, names=["access_log"])]


def test_a_clean_chain_with_its_witness_is_ok(vault, config):
    add_user(vault, "root", "ops-person", ["ops"])
    vault.checkpoint()
    assert _access_log(vault, config) == []


def test_an_entry_appended_without_the_signing_key_is_critical(vault, config):
    add_user(vault, "root", "ops-person", ["ops"])
    with vault.transaction() as conn:
        seq = append(conn, "root", "users.add", signer=Ed25519PrivateKey.generate(), detail={"name": "intruder"})
    findings = _access_log(vault, config)
    assert any(f"entry {seq} is not signed by the checkpoint key" in line for line in findings), findings


def test_a_missing_witness_file_is_critical_not_skipped(vault, config):
    add_user(vault, "root", "ops-person", ["ops"])
    vault.checkpoint()
    config.witness_path.unlink()
    findings = _access_log(vault, config)
    assert any(f"witness file {config.witness_path} is missing" in line for line in findings), findings
    assert all(f.severity == "critical" for f in run_checks(vault, config, start=time.time(), end=time.time(),
                                                           live=True, names=["access_log"]))
