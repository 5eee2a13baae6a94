#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine (as root), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --test
exec "${CALLREC_VENV:-/opt/callrec-venv}/bin/python" -m pytest -q -ra "$@"
