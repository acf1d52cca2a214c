#!/usr/bin/env bash
# Set up everything gridsafe needs on a Debian machine; safe to run again.
#   - Debian packages: PostgreSQL 15 with PostGIS 3 and pgRouting (and, with --test, Chromium and a
#     CJK font for the browser tests), installed only when missing;
#   - the database cluster started when it is not running, and a login that works over TCP;
#   - a virtualenv in .venv with gridsafe and its pinned dependencies.
# Prints on its last line the URL of a PostgreSQL superuser (the callers export it as
# GRIDSAFE_ADMIN_DATABASE_URL: `gridsafe db init` makes through it the database and the app's
# and the owner's logins, neither of them a superuser).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# fonts-wqy-zenhei: Chinese text in the printed poster (maps/poster.py) and headless pages.
packages=(postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting python3-venv fonts-wqy-zenhei)
# npm fetches the web maps' browser libraries (scripts/vendor.py); a machine with npm already
# (e.g. from NodeSource) keeps its own.
command -v npm >/dev/null 2>&1 || packages+=(npm)
# poppler-utils: the poster test renders the PDF to PNG (pdftoppm) and reads its text.
[ "$want_test" = 1 ] && packages+=(chromium poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-venv is not needed where the python3 in use already has venv (e.g. pyenv builds).
if python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >&2
fi

# Start PostgreSQL 15 if it is not running (create the cluster on a machine that has none).
if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main'; then
  as_root pg_createcluster 15 main >&2
fi
if ! pg_lsclusters -h | grep -E '^15 +main' | grep -q online; then
  echo "starting PostgreSQL 15" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect 15 main start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done

# The superuser logs in as postgres over TCP without a password (trust auth, as on the
# project's machines). Where that is refused (a fresh Debian uses scram for TCP), make a
# superuser role with a password instead: PostGIS needs a superuser to be created.
url="${GRIDSAFE_ADMIN_DATABASE_URL:-}"
if [ -z "$url" ]; then
  if psql -w -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    url="postgresql+psycopg://postgres@127.0.0.1:5432/gridsafe"
  else
    as_root runuser -u postgres -- psql -q -d postgres -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gridsafe') THEN
        CREATE ROLE gridsafe LOGIN SUPERUSER PASSWORD 'gridsafe';
      END IF; END \$\$;" >&2
    url="postgresql+psycopg://gridsafe:gridsafe@127.0.0.1:5432/gridsafe"
  fi
fi

# The virtualenv, reinstalled only when pyproject.toml changed.
[ -x .venv/bin/python ] || python3 -m venv .venv >&2
stamp=.venv/.gridsafe-installed
extras=""
[ "$want_test" = 1 ] && extras="[dev]"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)$extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e ".$extras" >&2
  echo "$want" > "$stamp"
fi
# The web maps' browser libraries (Leaflet, VectorGrid) into build/vendor, pinned and verified.
.venv/bin/python scripts/vendor.py >&2
echo "$url"
