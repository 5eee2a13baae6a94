"""The case package: complete, signed, private to its case, and checkable with nothing but itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callrec.evidence import scan_package, verify_package
from tests.conftest import run_cli
from tests.evidence.conftest import OUTSIDE_ACTOR, OUTSIDE_REASON, OUTSIDE_TEXT


def _evidence_verify(directory, *args, cwd):
    """``callrec evidence verify`` as a third party runs it: empty environment, no config, no state."""
    return subprocess.run([sys.executable, "-m", "callrec", "evidence", "verify", str(directory), *args],
                          capture_output=True, text=True, timeout=120, env={}, cwd=cwd)


@pytest.fixture
def copy(exported, tmp_path):
    target = tmp_path / "package"
    shutil.copytree(exported[1], target)
    return target


def test_untouched_package_verifies_with_no_config_state_or_key(exported, tmp_path):
    _, package, fingerprint, inside, _ = exported
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _evidence_verify(package, "--key-fingerprint", fingerprint, cwd=empty)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ")
    assert list(empty.iterdir()) == []  # nothing written, no state made


def test_evidence_verify_never_reads_a_config(exported, tmp_path):
    """Even a broken config named in the environment is not touched."""
    bad = tmp_path / "bad.toml"
    bad.write_text("this is not toml [")
    result = subprocess.run([sys.executable, "-m", "callrec", "evidence", "verify", str(exported[1])],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={"CALLREC_CONFIG": str(bad)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_manifest_says_what_the_issue_asks(exported):
    _, package, fingerprint, inside, _ = exported
    manifest = json.loads((package / "manifest.json").read_text())
    assert manifest["format"] == "callrec-evidence/1" and manifest["callrec_version"]
    assert manifest["exported_at"] and manifest["key_fingerprint"] == fingerprint
    case = manifest["case"]
    assert case["reason"].startswith("death at home") and case["approved_by"] == "appr"
    assert case["window"]["from"] and case["decided_at"] and case["opened_by"]
    assert [c["id"] for c in manifest["calls"]] == inside
    for call in manifest["calls"]:
        assert call["started_at"] and call["ended_at"] and len(call["pcm_sha256"]) == 64 and call["seal_seq"]
    names = {f["file"] for f in manifest["files"]}
    assert {"index.html", "proof/chain.json", "proof/checkpoint.json", "proof/signing-key.pem"} <= names
    assert all(f["size"] > 0 and len(f["sha256"]) == 64 for f in manifest["files"])
    audio = next(f for f in manifest["files"] if f["file"] == f"call-{inside[0]}.flac")
    assert audio["call_id"] == inside[0] and audio["access_log"]["seq"]  # the read that let it out
    checkpoint = json.loads((package / "proof" / "checkpoint.json").read_text())
    chain = json.loads((package / "proof" / "chain.json").read_text())
    exports = [json.loads(e["body"]) for e in chain["entries"] if json.loads(e["body"])["action"] == "export"]
    assert len(exports) == len(inside) and all(e["seq"] <= checkpoint["seq"] for e in exports)
    actions = {json.loads(e["body"])["action"] for e in chain["entries"]}
    assert {"case.open", "case.approve", "case.attach", "seal", "export", "transcript.read"} <= actions


def test_package_reveals_nothing_of_calls_or_cases_outside_it(exported):
    _, package, _, inside, outside = exported
    blob = b"".join(p.read_bytes() for p in sorted(package.rglob("*")) if p.is_file())
    for secret in (OUTSIDE_TEXT, OUTSIDE_ACTOR, OUTSIDE_REASON, "nobodyatall"):
        assert secret.encode() not in blob
    chain = json.loads((package / "proof" / "chain.json").read_text())
    bodies = [json.loads(e["body"]) for e in chain["entries"]]
    assert outside not in {b["call_id"] for b in bodies}
    assert {b["case_id"] for b in bodies} <= {None, json.loads((package / "manifest.json").read_text())["case"]["id"]}
    assert len(chain["links"]) > len(bodies)  # the other entries are there, as digests only
    assert not (package / f"call-{outside}.flac").exists()
    assert f'"id": {outside},' not in (package / "manifest.json").read_text()


def _flip_audio(p):
    path = p / "call-1.flac"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))


def _edit_transcript(p):
    path = p / "call-1.txt"
    path.write_text(path.read_text().replace("保健所", "病院"))


def _edit_manifest(p):
    path = p / "manifest.json"
    path.write_text(path.read_text().replace("death at home", "fell at home"))


def _chain(p, change):
    path = p / "proof" / "chain.json"
    chain = json.loads(path.read_text())
    change(chain)
    path.write_text(json.dumps(chain))


def _remove_entry(chain):
    chain["entries"] = [e for e in chain["entries"] if json.loads(e["body"])["action"] != "seal"]


def _edit_entry(chain):
    entry = next(e for e in chain["entries"] if json.loads(e["body"])["action"] == "seal")
    entry["body"] = entry["body"].replace('"status":"sealed"', '"status":"interrupted"')


def _remove_link(chain):
    del chain["links"][len(chain["links"]) // 2]


def _resign_checkpoint(p):
    path = p / "proof" / "checkpoint.json"
    cp = json.loads(path.read_text())
    cp["sig"] = Ed25519PrivateKey.generate().sign(cp["message"].encode()).hex()
    path.write_text(json.dumps(cp))


TAMPERS = {
    "flipped audio byte": (_flip_audio, ["file call-1.flac: SHA-256 differs"]),
    "edited transcript": (_edit_transcript, ["file call-1.txt: "]),
    "edited manifest": (_edit_manifest, ["manifest: its signature does not verify"]),
    "removed file": (lambda p: (p / "call-2.vtt").unlink(), ["file call-2.vtt is missing (removed)"]),
    "added file": (lambda p: (p / "note.txt").write_text("x"), ["file note.txt is not listed in the manifest (added)"]),
    "removed chain entry": (lambda p: _chain(p, _remove_entry), ["call 1: no seal entry in the chain proof"]),
    "edited chain entry": (lambda p: _chain(p, _edit_entry), ["does not match its link (entry edited)"]),
    "removed chain link": (lambda p: _chain(p, _remove_link), ["chain: the links do not lead to the signed checkpoint"]),
    "checkpoint re-signed with another key": (_resign_checkpoint, ["checkpoint: its signature does not verify"]),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampered_package_fails_with_its_own_line(copy, exported, name, tmp_path):
    tamper, expected = TAMPERS[name]
    tamper(copy)
    result = _evidence_verify(copy, "--key-fingerprint", exported[2], cwd=tmp_path)
    assert result.returncode == 8, result.stdout + result.stderr
    for text in expected:
        assert text in result.stdout, result.stdout
    assert "ok:" not in result.stdout


def test_wrong_key_fingerprint_fails(exported, tmp_path):
    result = _evidence_verify(exported[1], "--key-fingerprint", "ab" * 32, cwd=tmp_path)
    assert result.returncode == 8
    assert result.stdout.strip() == f"key: the package was signed by key {exported[2]}, not by the published key {'ab' * 32}"


def test_bad_arguments_are_one_line_errors(exported, tmp_path):
    missing = _evidence_verify(tmp_path / "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "is not a directory" in missing.stderr
    short = _evidence_verify(exported[1], "--key-fingerprint", "abc", cwd=tmp_path)
    assert short.returncode == 2 and "64 hex digits" in short.stderr


def test_export_reads_are_logged_and_the_vault_still_verifies(exported):
    config_file = exported[0]
    assert run_cli(config_file, "verify").returncode == 0


def test_verifier_finds_nothing_on_the_package_in_memory(exported):
    assert verify_package(scan_package(exported[1]), exported[2]) == []


@pytest.mark.parametrize("manifest", ["[]", "null", "0", '"x"', "{}", '{"format": 1}', '{"calls": {}}'])
def test_forged_package_of_key_and_bare_manifest_is_never_ok(exported, tmp_path, manifest):
    """A folder with the real public key and a manifest that is not a signed package manifest."""
    forged = tmp_path / "forged"
    (forged / "proof").mkdir(parents=True)
    shutil.copy(exported[1] / "proof" / "signing-key.pem", forged / "proof" / "signing-key.pem")
    (forged / "manifest.json").write_text(manifest)
    as_json = _evidence_verify(forged, "--key-fingerprint", exported[2], "--json", cwd=tmp_path)
    as_text = _evidence_verify(forged, "--key-fingerprint", exported[2], cwd=tmp_path)
    assert as_json.returncode == as_text.returncode == 8, as_json.stderr + as_text.stderr
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["findings"]
    assert as_text.stdout.splitlines() == report["findings"]
    assert "Traceback" not in as_text.stderr + as_json.stderr
