"""``callrec calls list`` prints, byte for byte, what main printed before the listing was made
faster, run locally and through the daemon's socket: the vault and the outputs in
``tests/fixtures/calls_list/`` were written by main at d0b10ca (``make.py`` there), and the vault
is migrated to the current schema when opened. The ``.json`` files were rewritten once by issue 22
(orjson, one call a line) with the same values as main's, checked by parsing both."""

from __future__ import annotations

import argparse
import io
import tarfile

import pytest

from callrec.cli import calls
from callrec.cli._context import Context
from callrec.config import load_config
from callrec.daemon import AccessServer
from tests.conftest import FIXTURES
from tests.fixtures.calls_list.make import WINDOWS, ZONE, outputs

GOLDEN = FIXTURES / "calls_list"


def _unpacked(directory):
    (directory / "state").mkdir()
    with tarfile.open(GOLDEN / "vault.tar.gz") as tar:
        tar.extractall(directory / "state")  # noqa: S202 - our own fixture
    config_file = directory / "callrec.toml"
    config_file.write_text(f'state_dir = "{directory / "state"}"\ntimezone = "{ZONE}"\n')
    return config_file


@pytest.fixture(scope="module")
def listed(tmp_path_factory) -> dict[str, str]:
    return outputs(_unpacked(tmp_path_factory.mktemp("golden")))


@pytest.fixture(scope="module")
def listed_through_the_socket(tmp_path_factory) -> dict[str, str]:
    """What ``calls list`` prints when it asks the daemon (an account that cannot read the key)."""
    config_file = _unpacked(tmp_path_factory.mktemp("golden-socket"))
    server = AccessServer(load_config(config_file))
    server.start()
    try:
        out = {}
        for name, (start, end) in WINDOWS.items():
            for as_json in (False, True):
                ctx = Context(str(config_file), "root", out=io.StringIO(), remote=True)
                assert calls.run(ctx, argparse.Namespace(from_=start, to=end, json=as_json)) == 0
                out[f"{name}{'.json' if as_json else '.txt'}"] = ctx.out.getvalue()
        return out
    finally:
        server.stop()


@pytest.mark.parametrize("name", [f"{w}{ext}" for w in WINDOWS for ext in (".txt", ".json")])
def test_the_output_is_the_one_main_printed(listed, listed_through_the_socket, name):
    assert listed[name] == (GOLDEN / name).read_text()
    assert listed_through_the_socket[name] == (GOLDEN / name).read_text()


def test_the_golden_outputs_hold_every_kind_of_call():
    text = (GOLDEN / "all.txt").read_text()
    for shown in ("purged", "interrupted", "recording", "failed", "done", "pending", "test", "one_sided", "+00:00",
                  "+01:00"):
        assert shown in text
    assert '"uncertain_share":0.5' in (GOLDEN / "all.json").read_text()
