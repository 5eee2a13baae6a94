"""Property-based fuzzing of ``evidence verify`` on real exported packages.

Hypothesis mutates a real package — bytes of any file, any value anywhere in its JSON files,
the folder itself (links, fifos, empty folders, added, removed and huge sparse files) — and,
playing the key holder, re-signs manifests of the wrong shape. Every mutation must be a finding:
never "ok", never an exception out of the verifier.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callrec.config import load_config
from callrec.evidence import check_package, scan_package
from callrec.vault._checkpoint import load_signing_key

JSON_FILES = ("manifest.json", "proof/chain.json", "proof/checkpoint.json")
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _paths(value, prefix=()):
    """Every path to a value inside a JSON document (the root included)."""
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def _replace(doc, path, new):
    if not path:
        return new
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if new is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return doc


_DELETE = object()


def _check(directory: Path, fingerprint: str):
    report = check_package(scan_package(directory), fingerprint)  # must not raise
    assert report.findings, "a mutated package verified ok"
    assert all(isinstance(f, str) and "\n" not in f for f in report.findings)
    return report


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def _fresh(exported, workdir: Path) -> Path:
    target = workdir / "p"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(exported[1], target)
    return target


@FUZZ
@given(data=st.data())
def test_any_json_value_changed_anywhere_is_a_finding(exported, workdir, data):
    package = _fresh(exported, workdir)
    name = data.draw(st.sampled_from(JSON_FILES))
    doc = json.loads((package / name).read_text())
    path = data.draw(st.sampled_from(list(_paths(doc))))
    new = data.draw(json_values | (st.just(_DELETE) if path else st.nothing()))
    old = doc
    for key in path:
        old = old[key]
    if new is not _DELETE and json.dumps(new, sort_keys=True) == json.dumps(old, sort_keys=True):
        return  # no change
    (package / name).write_text(json.dumps(_replace(doc, path, new)))
    _check(package, exported[2])


@FUZZ
@given(name=st.sampled_from(["manifest.json", "manifest.sig", "proof/chain.json", "proof/checkpoint.json",
                             "proof/signing-key.pem", "index.html", "call-1.flac", "call-2.txt"]),
       where=st.floats(0, 1), how=st.sampled_from(["flip", "truncate", "append", "empty"]))
def test_any_byte_change_of_any_file_is_a_finding(exported, workdir, name, where, how):
    package = _fresh(exported, workdir)
    path = package / name
    data = bytearray(path.read_bytes())
    at = min(int(where * len(data)), len(data) - 1)
    if how == "flip":
        data[at] ^= 0x01
    elif how == "truncate":
        del data[at:]
    elif how == "append":
        data += b"\n" if name != "manifest.sig" else b"0"
    else:
        data = bytearray()
    if name == "manifest.sig" and bytes(data) == path.read_bytes().rstrip(b"\n"):
        return  # only the signature's optional newline went (docs/design/evidence.md): the same signature
    path.write_bytes(bytes(data))
    _check(package, exported[2])


def _deep(package: Path, name: str) -> None:
    (package / name).write_text("[" * 100_000 + "]" * 100_000)


def _sparse(package: Path, name: str) -> None:
    with open(package / name, "wb") as handle:
        handle.truncate(3 * 1024**3)  # 3 GB of nothing on disk: must never be read


FOLDER_CHANGES = {
    "symlink to a listed file": lambda p: (p / "link.flac").symlink_to(p / "call-1.flac"),
    "listed file replaced by a symlink": lambda p: ((p / "call-2.txt").unlink(), (p / "call-2.txt").symlink_to("call-1.txt")),
    "fifo": lambda p: os.mkfifo(p / "pipe"),
    "listed file replaced by a fifo": lambda p: ((p / "index.html").unlink(), os.mkfifo(p / "index.html")),
    "empty folder": lambda p: (p / "extra").mkdir(),
    "empty folder in proof": lambda p: (p / "proof" / "x").mkdir(),
    "unlisted file in proof": lambda p: (p / "proof" / "note.txt").write_text("x"),
    "sparse 3 GB unlisted file": lambda p: _sparse(p, "big.bin"),
    "listed audio replaced by a sparse 3 GB file": lambda p: _sparse(p, "call-1.flac"),
    "sparse 3 GB manifest": lambda p: _sparse(p, "manifest.json"),
    "sparse 3 GB chain proof": lambda p: _sparse(p, "proof/chain.json"),
    "deeply nested manifest": lambda p: _deep(p, "manifest.json"),
    "deeply nested chain proof": lambda p: _deep(p, "proof/chain.json"),
    "manifest removed": lambda p: (p / "manifest.json").unlink(),
    "signature removed": lambda p: (p / "manifest.sig").unlink(),
    "key removed": lambda p: (p / "proof" / "signing-key.pem").unlink(),
    "proof folder removed": lambda p: shutil.rmtree(p / "proof"),
    "everything but the key removed": lambda p: [f.unlink() for f in list(p.rglob("*")) if f.is_file() and f.suffix != ".pem"],
    "a name that is not UTF-8": lambda p: (p / os.fsdecode(b"bad\xff.txt")).write_text("x"),
}


@pytest.mark.parametrize("change", list(FOLDER_CHANGES))
def test_folder_changes_are_findings_without_reading_what_is_not_listed(exported, workdir, change):
    package = _fresh(exported, workdir)
    FOLDER_CHANGES[change](package)
    _check(package, exported[2])


def _resign(exported, package: Path, manifest) -> None:
    signer = load_signing_key(load_config(exported[0]).checkpoint_key_path)
    data = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    (package / "manifest.json").write_bytes(data)
    (package / "manifest.sig").write_text(signer.sign(data).hex() + "\n")


def _kind(value) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    return "number" if isinstance(value, int | float) else type(value).__name__


@FUZZ
@given(data=st.data())
def test_a_resigned_manifest_of_the_wrong_shape_is_a_finding(exported, workdir, data):
    """The key holder signs a manifest with a member of another JSON type, or without one: the
    signature holds, the shape does not."""
    package = _fresh(exported, workdir)
    manifest = json.loads((package / "manifest.json").read_text())
    documented = [p for p in _paths(manifest) if p and not (p[0] == "calls" and p[-1:] == ("lines",))]
    path = data.draw(st.sampled_from(documented))
    old = manifest
    for key in path:
        old = old[key]
    new = data.draw((json_values | st.just(_DELETE)).filter(lambda v: v is _DELETE or _kind(v) != _kind(old)))
    if isinstance(path[-1], int) and new is _DELETE:
        return  # one element fewer in a list is a shorter list, not another shape (covered elsewhere)
    if path[-1] in ("approved_by", "decided_at", "ended_ts", "seal_seq") and new is None:
        return  # documented as possibly null
    _resign(exported, package, _replace(manifest, path, new))
    _check(package, exported[2])


@pytest.mark.parametrize("change", ["files", "case", "seq", "call_id", "body without call_id"])
def test_resigned_forgeries_named_in_the_issue_are_findings_in_text_and_json_alike(exported, workdir, change):
    import subprocess
    import sys

    package = _fresh(exported, workdir)
    manifest = json.loads((package / "manifest.json").read_text())
    if change == "files":
        manifest["files"][0] = "call-1.flac"
    elif change == "case":
        manifest["case"] = [manifest["case"]]
    elif change == "seq":
        manifest["checkpoint"]["seq"] = str(manifest["checkpoint"]["seq"])
    elif change == "call_id":
        manifest["files"][0]["call_id"] = str(manifest["files"][0]["call_id"])
    else:
        chain = json.loads((package / "proof" / "chain.json").read_text())
        body = json.loads(chain["entries"][0]["body"])
        del body["call_id"]
        chain["entries"][0]["body"] = json.dumps(body)
        (package / "proof" / "chain.json").write_text(json.dumps(chain))
    _resign(exported, package, manifest)
    report = _check(package, exported[2])
    run = [sys.executable, "-m", "callrec", "evidence", "verify", str(package), "--key-fingerprint", exported[2]]
    text = subprocess.run(run, capture_output=True, text=True, env={}, cwd=workdir, timeout=120)
    as_json = subprocess.run([*run, "--json"], capture_output=True, text=True, env={}, cwd=workdir, timeout=120)
    assert text.returncode == as_json.returncode == 8 and not text.stderr and not as_json.stderr
    assert text.stdout.splitlines() == json.loads(as_json.stdout)["findings"] == report.findings


def _relink(exported, package: Path, chain: dict) -> None:
    """Play the key holder: re-fold the chain, re-sign the checkpoint, re-list and re-sign the manifest."""
    import hashlib

    signer = load_signing_key(load_config(exported[0]).checkpoint_key_path)
    by_seq = {e["seq"]: e["body"] for e in chain["entries"]}
    links, digest = [], chain["prev_hash"]
    for offset, link in enumerate(chain["links"]):
        body = by_seq.get(chain["first_seq"] + offset)
        links.append(hashlib.sha256(body.encode("utf-8")).hexdigest() if body is not None else link)
        digest = hashlib.sha256(f"callrec-log-v2:{digest}:{links[-1]}".encode("ascii")).hexdigest()
    chain["links"] = links
    cp = json.loads((package / "proof" / "checkpoint.json").read_text())
    cp["hash"] = digest
    cp["message"] = f"{cp['seq']}:{digest}:{cp['message'].split(':')[2]}"
    cp["sig"] = signer.sign(cp["message"].encode("ascii")).hex()
    files = {"proof/chain.json": json.dumps(chain).encode(), "proof/checkpoint.json": json.dumps(cp).encode()}
    manifest = json.loads((package / "manifest.json").read_text())
    for name, data in files.items():
        (package / name).write_bytes(data)
        item = next(f for f in manifest["files"] if f["file"] == name)
        item.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    manifest["checkpoint"]["hash"] = digest
    _resign(exported, package, manifest)


def test_relinking_an_unchanged_chain_still_verifies(exported, workdir):
    """The forger below is faithful: without a change its package holds (so findings come from the change)."""
    package = _fresh(exported, workdir)
    _relink(exported, package, json.loads((package / "proof" / "chain.json").read_text()))
    assert check_package(scan_package(package), exported[2]).findings == []


BODY_MEMBERS = ["seq", "ts", "actor", "action", "outcome", "call_id", "case_id", "reason", "detail", "checkpoints",
                "nonce"]


@FUZZ
@given(data=st.data())
def test_a_relinked_body_of_the_wrong_shape_is_a_finding(exported, workdir, data):
    """The key holder rewrites a shown entry with a member of another type (or none) and re-signs
    everything: the links and signatures hold, the body's shape does not."""
    package = _fresh(exported, workdir)
    chain = json.loads((package / "proof" / "chain.json").read_text())
    entry = data.draw(st.sampled_from(chain["entries"]))
    body = json.loads(entry["body"])
    key = data.draw(st.sampled_from(BODY_MEMBERS))
    new = data.draw((json_values | st.just(_DELETE)).filter(lambda v: v is _DELETE or _kind(v) != _kind(body[key])))
    if key in ("call_id", "case_id") and (new is None or body[key] is None):
        return  # documented as possibly null: covered by the rules on whose entry it is
    if new is _DELETE:
        del body[key]
    else:
        body[key] = new
    entry["body"] = json.dumps(body)
    _relink(exported, package, chain)
    _check(package, exported[2])
