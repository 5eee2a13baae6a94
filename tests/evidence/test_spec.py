"""A verifier written from docs/design/evidence.md alone (hashlib, json, cryptography, soundfile;
nothing from callrec) accepts the exported package: the spec is enough to check it."""

from __future__ import annotations

import hashlib
import io
import json

import soundfile
from cryptography.hazmat.primitives import serialization


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_package_checks_out_by_the_spec_alone(exported):
    package, fingerprint = exported[1], exported[2]

    def read(name: str) -> bytes:
        return (package / name).read_bytes()

    key = serialization.load_pem_public_key(read("proof/signing-key.pem"))
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert _sha(raw) == fingerprint

    key.verify(bytes.fromhex(read("manifest.sig").decode().strip()), read("manifest.json"))
    manifest = json.loads(read("manifest.json"))
    for item in manifest["files"]:
        data = read(item["file"])
        assert (len(data), _sha(data)) == (item["size"], item["sha256"])

    cp = json.loads(read("proof/checkpoint.json"))
    key.verify(bytes.fromhex(cp["sig"]), cp["message"].encode("ascii"))
    seq, digest, _ = cp["message"].split(":")
    assert (int(seq), digest) == (cp["seq"], cp["hash"])

    chain = json.loads(read("proof/chain.json"))
    h, hashes = chain["prev_hash"], {}
    for offset, link in enumerate(chain["links"]):
        h = _sha(f"callrec-log-v2:{h}:{link}".encode("ascii"))
        hashes[chain["first_seq"] + offset] = h
    assert h == cp["hash"] and chain["first_seq"] + len(chain["links"]) - 1 == cp["seq"]
    bodies = {}
    for entry in chain["entries"]:
        assert _sha(entry["body"].encode("utf-8")) == chain["links"][entry["seq"] - chain["first_seq"]]
        bodies[entry["seq"]] = json.loads(entry["body"])
        assert bodies[entry["seq"]]["seq"] == entry["seq"]
    assert list(bodies) == sorted(set(bodies))  # increasing, each once

    case, service = manifest["case"], "callrec:service"
    call_ids = {c["id"] for c in manifest["calls"]}
    for body in bodies.values():  # only the case's own actors' entries and its calls' lifecycle
        if body["case_id"] is not None:
            assert body["case_id"] == case["id"] and body["actor"] in {case["opened_by"], case["approved_by"], service}
        else:
            assert body["call_id"] in call_ids and body["actor"] == service
            assert body["action"] in ("call.start", "seal", "transcript")
    (opened,) = [b for b in bodies.values() if b["action"] == "case.open"]
    assert (opened["reason"], opened["actor"]) == (case["reason"], case["opened_by"])

    names = [item["file"] for item in manifest["files"]]
    assert len(names) == len(set(names)) and not {"manifest.json", "manifest.sig"} & set(names)
    assert {"proof/chain.json", "proof/checkpoint.json", "proof/signing-key.pem", "index.html"} <= set(names)
    on_disk = {p.relative_to(package).as_posix() for p in package.rglob("*") if not p.is_dir()}
    assert on_disk == set(names) | {"manifest.json", "manifest.sig"}  # nothing unlisted, no link or fifo
    for item in manifest["files"]:
        if "call_id" in item:  # the read that let it out: shown, of this case and call, with its chain hash
            read_entry = bodies[item["access_log"]["seq"]]
            wanted = "export" if item["file"].endswith((".flac", ".wav")) else "transcript.read"
            assert (read_entry["action"], read_entry["case_id"], read_entry["call_id"], read_entry["outcome"]) == (
                wanted, case["id"], item["call_id"], "ok")
            assert hashes[item["access_log"]["seq"]] == item["access_log"]["hash"]

    for call in manifest["calls"]:
        (seal,) = [b for b in bodies.values() if b["action"] == "seal" and b["call_id"] == call["id"]]
        samples, _ = soundfile.read(io.BytesIO(read(call["audio"])), dtype="int16", always_2d=True)
        assert _sha(samples.astype("<i2").tobytes()) == seal["detail"]["pcm_sha256"] == call["pcm_sha256"]
        assert any(b["action"] == "export" and b["call_id"] == call["id"] and b["case_id"] == manifest["case"]["id"]
                   for b in bodies.values())
