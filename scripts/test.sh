#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run the whole check: ruff, mypy, pytest.
# This is the test command the README gives and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
