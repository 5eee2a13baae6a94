"""The config loader and the example config shipped in ``config/``."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from callrec.config import Config, load_config
from callrec.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "callrec.example.toml"


def _keys(cls: type, prefix: str = "") -> set[str]:
    out = set()
    for f in dataclasses.fields(cls):
        if f.name == "source":
            continue
        if dataclasses.is_dataclass(f.default):
            out |= _keys(type(f.default), f"{prefix}{f.name}.")
        else:
            out.add(f"{prefix}{f.name}")
    return out


def test_example_config_loads_and_documents_every_key():
    config = load_config(EXAMPLE)
    assert config.state_dir == Path("/var/lib/callrec")
    text = EXAMPLE.read_text()
    documented, section = set(), ""
    for line in text.splitlines():
        if heading := re.match(r"^\[([\w.]+)\]", line):
            section = heading.group(1) + "."
        elif key := re.match(r"^(?:# )?(\w+) = ", line):
            documented.add(section + key.group(1))
    assert _keys(Config) <= documented, sorted(_keys(Config) - documented)
    tomllib.loads(text)


def test_state_dir_alone_is_a_valid_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f'state_dir = "{tmp_path / "s"}"\n')
    config = load_config(path)
    assert config.vault_path == tmp_path / "s" / "vault.db"
    assert config.key_path == tmp_path / "s" / "vault.key"
    assert config.witness_path.parent == tmp_path / "s"


@pytest.mark.parametrize("body, words", [
    ("[capture]\nsample_rate = 44100\n", ["capture.sample_rate", "8000 or 16000"]),
    ("[capture]\npre_roll_s = 0.1\n", ["capture", "pre_roll_s"]),
    ("timezone = \"Mars/Olympus\"\n", ["timezone"]),
    ("[health]\nreport_time = \"25:00\"\n", ["health.report_time"]),
    ("[cases]\nfour_eyes = \"yes\"\n", ["cases.four_eyes", "true or false"]),
    ("state_dir = 3\n", ["state_dir", "path"]),
    ("[capture\n", ["not valid TOML"]),
    ("[asr]\nlanguage = \"Japanese\"\n", ["asr.language", "language code"]),
    ("[asr]\nworkers = 2\nthreads = 3\n", ["asr", "set only workers"]),
    ("[asr]\nuncertain_marks = [\"<\"]\n", ["asr", "two strings"]),
    ("[asr]\nuncertain_below = 1.5\n", ["asr.uncertain_below"]),
    ("[ui]\nlanguage = \"fr\"\n", ["ui.language", "auto", "ja", "en"]),
    ("[ui]\nlanguage = 1\n", ["ui.language", "a string"]),
    ("[ui]\nport = 8080\n", ["ui.port"]),
])
def test_bad_values_are_one_line_errors_naming_key_and_file(tmp_path, body, words):
    path = tmp_path / "c.toml"
    path.write_text(body if body.startswith("state_dir") else f'state_dir = "{tmp_path}"\n{body}')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message


def test_systemd_credential_wins_over_key_file(tmp_path, monkeypatch):
    path = tmp_path / "c.toml"
    path.write_text(f'state_dir = "{tmp_path / "s"}"\nkey_file = "/etc/callrec/vault.key"\n')
    assert load_config(path).key_path == Path("/etc/callrec/vault.key")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "vault-key").write_text("00" * 32)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert load_config(path).key_path == creds / "vault-key"


@pytest.mark.parametrize("body, parallel", [("", 1), ("workers = 3", 3), ("threads = 2", 2), ("workers = 2\nthreads = 2", 2)])
def test_asr_workers_and_its_old_name_threads(tmp_path, body, parallel):
    path = tmp_path / "c.toml"
    path.write_text(f'state_dir = "{tmp_path}"\n[asr]\n{body}\n')
    assert load_config(path).asr.parallel == parallel
