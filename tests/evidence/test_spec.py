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
    h = chain["prev_hash"]
    for link in chain["links"]:
        h = _sha(f"callrec-log-v2:{h}:{link}".encode("ascii"))
    assert h == cp["hash"] and chain["first_seq"] + len(chain["links"]) - 1 == cp["seq"]
    bodies = {}
    for entry in chain["entries"]:
        assert _sha(entry["body"].encode("utf-8")) == chain["links"][entry["seq"] - chain["first_seq"]]
        bodies[entry["seq"]] = json.loads(entry["body"])

    for call in manifest["calls"]:
        seal = next(b for b in bodies.values() if b["action"] == "seal" and b["call_id"] == call["id"])
        samples, _ = soundfile.read(io.BytesIO(read(call["audio"])), dtype="int16", always_2d=True)
        assert _sha(samples.astype("<i2").tobytes()) == seal["detail"]["pcm_sha256"] == call["pcm_sha256"]
        assert any(b["action"] == "export" and b["call_id"] == call["id"] and b["case_id"] == manifest["case"]["id"]
                   for b in bodies.values())
