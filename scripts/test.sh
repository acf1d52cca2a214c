#!/usr/bin/env bash
# Set everything up and run the checks: ruff, mypy and the test suite (each run in its own
# database). Safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."
url=$(bash scripts/setup.sh --test | tail -n 1)
export GRIDSAFE_ADMIN_DATABASE_URL="$url"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict geo api maps cli demo
.venv/bin/mypy scripts bench tests
# Two processes (pytest-xdist): each keeps a test file's tests together and one of them all the
# tests of the demo district, which it alone loads (tests/conftest.py). GRIDSAFE_TEST_WORKERS=0
# runs in this process only.
exec .venv/bin/pytest -n "${GRIDSAFE_TEST_WORKERS:-2}" --dist loadgroup "$@"
