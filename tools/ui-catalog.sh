#!/usr/bin/env bash
# After changing a text of callrec ui: extract the messages, merge them into the Japanese catalog
# (callrec/ui/locale/ja/LC_MESSAGES/messages.po: translate the new or fuzzy entries there), and
# compile it (messages.mo, shipped in the package). tests/ui/test_catalog.py fails until both are done.
set -euo pipefail
cd "$(dirname "$0")/../callrec/ui"
bin=$(dirname "$(command -v "${PYTHON:-python3}")")
"$bin/pybabel" extract -F babel.cfg -k N_ --no-location --omit-header -o locale/messages.pot .
"$bin/pybabel" update -i locale/messages.pot -d locale -l ja --no-wrap --no-fuzzy-matching
"$bin/pybabel" compile -d locale -l ja --statistics
