#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run the bot's main job.
# Without DISCORD_TOKEN it runs in console mode: alerts and digests are printed here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
exec .venv/bin/python bot.py run "$@"
