"""Signed heads that leave the host and the signing key's fingerprint: log head, key show, init,
the daily report, alerts, and the key taken from a systemd credential."""

from __future__ import annotations

import io
import json
import re
import time

from cryptography.hazmat.primitives import serialization

from callrec.cli import execute
from callrec.cli._context import Context
from callrec.config import load_config
from callrec.health import build_report
from callrec.health._alerts import Alerter
from callrec.health._findings import Finding
from callrec.vault import Vault
from callrec.vault._checkpoint import Checkpoint, create_signing_key, fingerprint, load_signing_key
from callrec.vault.people import add_user
from tests.conftest import record_call, run_cli, write_config


def _fp(path) -> str:
    return fingerprint(load_signing_key(path).public_key())


def test_init_and_key_show_print_the_fingerprint(config_file, config):
    init = run_cli(config_file, "init")
    assert init.returncode == 0, init.stderr
    expected = _fp(config.checkpoint_key_path)
    assert f"fingerprint: {expected} (publish it)" in init.stdout
    shown = run_cli(config_file, "key", "show")
    assert shown.returncode == 0 and shown.stdout.strip().endswith(expected)
    raw = load_signing_key(config.checkpoint_key_path).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert len(raw) == 32


def test_log_head_prints_a_signed_head_that_verify_accepts(config_file, config):
    assert run_cli(config_file, "init").returncode == 0
    with Vault.open(config) as vault:
        record_call(vault, seconds=0.5)  # moves the head past the last checkpoint
    head = run_cli(config_file, "log", "head")
    assert head.returncode == 0, head.stderr
    fields = dict(re.findall(r"(\w+)=(\S+)", head.stdout))
    last = Checkpoint(**json.loads(config.witness_path.read_text().splitlines()[-1]))
    assert (int(fields["seq"]), fields["hash"], fields["sig"]) == (last.seq, last.hash, last.sig)
    assert fields["key"] == _fp(config.checkpoint_key_path)
    load_signing_key(config.checkpoint_key_path).public_key().verify(bytes.fromhex(last.sig), last.message())
    with Vault.open(config) as vault:
        assert last.seq == vault.query("SELECT max(seq) FROM access_log")[0][0]
    ok = run_cli(config_file, "verify", "--trusted-head", f"{fields['seq']}:{fields['hash']}")
    assert ok.returncode == 0 and "1 trusted head(s)" in ok.stdout
    as_json = json.loads(run_cli(config_file, "log", "head", "--json").stdout)
    assert as_json["sig"] == last.sig


def test_bad_trusted_head_arguments_are_one_line_usage_errors(config_file, tmp_path):
    assert run_cli(config_file, "init").returncode == 0
    bad = run_cli(config_file, "verify", "--trusted-head", "12:nothex")
    assert bad.returncode == 2 and "expected SEQ:HASH" in bad.stderr
    missing = run_cli(config_file, "verify", "--trusted-heads", str(tmp_path / "none.txt"))
    assert missing.returncode == 2 and "cannot be read" in missing.stderr


def test_daily_report_and_alerts_carry_the_signed_head(tmp_path):
    sink = tmp_path / "alerts.txt"
    script = tmp_path / "alert.sh"
    script.write_text(f"#!/bin/sh\ncat >> {sink}\n")
    script.chmod(0o755)
    config = load_config(write_config(tmp_path, f'[asr]\nenabled = false\n[health]\nalert_command = "{script}"\n'))
    vault, _ = Vault.initialise(config)
    add_user(vault, "root", "root", ["admin"])
    report = build_report(vault, config, __import__("datetime").datetime.now(config.zone).date())  # the config's day, not the host's
    head = report["signed_head"]
    assert head["seq"] == report["chain_head"]["seq"] and head["sig"]
    assert head["key_fingerprint"] == _fp(config.checkpoint_key_path)
    alerter = Alerter(vault, config)
    alerter.process([Finding("capture_alive", "critical", "no capture heartbeat", time.time(), None)], ["capture_alive"])
    assert alerter.wait(10)
    lines = sink.read_text().splitlines()
    assert lines[1].startswith(f"callrec chain head seq={head['seq']} hash={head['hash']} sig=")
    vault.close()


def test_signing_key_is_taken_from_the_systemd_credential(config_file, config, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    create_signing_key(creds / "checkpoint-key")
    assert run_cli(config_file, "init", env={"CREDENTIALS_DIRECTORY": str(creds)}).returncode == 0
    assert not config.checkpoint_key_path.exists()  # nothing written beside the vault
    shown = run_cli(config_file, "key", "show", env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert shown.stdout.strip().endswith(_fp(creds / "checkpoint-key"))
    assert run_cli(config_file, "verify", env={"CREDENTIALS_DIRECTORY": str(creds)}).returncode == 0


def test_log_head_is_refused_and_logged_for_an_account_without_a_role(config_file, config):
    assert run_cli(config_file, "init").returncode == 0
    out, err = io.StringIO(), io.StringIO()
    code = execute(Context(config_flag=str(config_file), actor="nobody-here", out=out, err=err), ["log", "head"])
    assert code == 4 and "access refused for nobody-here" in err.getvalue() and out.getvalue() == ""
    with Vault.open(config) as vault:
        assert vault.query("SELECT actor, action, outcome FROM access_log ORDER BY seq DESC LIMIT 1")[0] == (
            "nobody-here", "log.head", "refused")
