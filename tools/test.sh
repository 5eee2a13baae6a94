#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine (as root), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --test
venv="${CALLREC_VENV:-/opt/callrec-venv}"
# Lint first (the project's rules and complexity at most 10, pyproject.toml [tool.ruff]): seconds, and
# a finding fails CI before the long test run.
"$venv/bin/ruff" check .
exec "$venv/bin/python" -m pytest -q -ra "$@"
