#!/usr/bin/env bash
# Set up a virtual environment (if needed) and run the bot's main job.
# Without DISCORD_TOKEN it runs in console mode: alerts and digests are printed here.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements.txt
exec .venv/bin/python bot.py run "$@"
