"""docs/cli.md lists every command with its options: regenerated from the parser, never stale."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_cli_reference_is_up_to_date():
    result = subprocess.run([sys.executable, str(REPO / "tools" / "make_cli_doc.py"), "--check"], cwd=REPO)
    assert result.returncode == 0, "docs/cli.md is stale: run python tools/make_cli_doc.py"
