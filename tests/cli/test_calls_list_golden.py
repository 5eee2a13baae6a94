"""``callrec calls list`` prints, byte for byte, what main printed before the listing was made
faster: the vault and the outputs in ``tests/fixtures/calls_list/`` were written by main at
d0b10ca (``make.py`` there), and the vault is migrated to the current schema when opened."""

from __future__ import annotations

import tarfile

import pytest

from tests.conftest import FIXTURES
from tests.fixtures.calls_list.make import WINDOWS, ZONE, outputs

GOLDEN = FIXTURES / "calls_list"


@pytest.fixture(scope="module")
def listed(tmp_path_factory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("golden")
    (directory / "state").mkdir()
    with tarfile.open(GOLDEN / "vault.tar.gz") as tar:
        tar.extractall(directory / "state")  # noqa: S202 - our own fixture
    config_file = directory / "callrec.toml"
    config_file.write_text(f'state_dir = "{directory / "state"}"\ntimezone = "{ZONE}"\n')
    return outputs(config_file)


@pytest.mark.parametrize("name", [f"{w}{ext}" for w in WINDOWS for ext in (".txt", ".json")])
def test_the_output_is_the_one_main_printed(listed, name):
    assert listed[name] == (GOLDEN / name).read_text()


def test_the_golden_outputs_hold_every_kind_of_call():
    text = (GOLDEN / "all.txt").read_text()
    for shown in ("purged", "interrupted", "recording", "failed", "done", "pending", "test", "one_sided", "+00:00",
                  "+01:00"):
        assert shown in text
    assert '"uncertain_share": 0.5' in (GOLDEN / "all.json").read_text()
