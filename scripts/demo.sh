#!/usr/bin/env bash
# Set everything up, load the demo district and serve it (http://127.0.0.1:8000/). Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."
url=$(bash scripts/setup.sh | tail -n 1)
export GRIDSAFE_ADMIN_DATABASE_URL="$url"
exec .venv/bin/gridsafe demo "$@"
