#!/usr/bin/env bash
# Install the Debian packages CityStat needs beyond Python: headless Chromium for the dashboard
# browser tests and screenshots, PostgreSQL for the tests of the PostgreSQL instance and warehouse
# (scripts/start_postgres.sh starts it), and Pango for WeasyPrint (the stat-meeting briefings as PDF). Idempotent: does nothing when everything is already there, and
# runs `apt-get update` at most once per call (apt can't find packages on a fresh machine without it).
set -euo pipefail

# package:command pairs; a package is installed only when its command is missing.
REQUIRED=(
  "chromium:chromium"
  "postgresql:pg_ctlcluster"
)

# package:library pairs; a package is installed only when the dynamic linker cannot find its library.
REQUIRED_LIBRARIES=(
  "libpango-1.0-0:libpango-1.0.so.0"
  "libpangoft2-1.0-0:libpangoft2-1.0.so.0"
)

missing=()
libraries="$(/sbin/ldconfig -p)"  # captured: `ldconfig -p | grep -q` fails under pipefail when grep stops early
for entry in "${REQUIRED_LIBRARIES[@]}"; do
  if ! grep -qF "${entry##*:}" <<<"$libraries"; then
    missing+=("${entry%%:*}")
  fi
done
for entry in "${REQUIRED[@]}"; do
  package="${entry%%:*}"
  command_name="${entry##*:}"
  if ! command -v "$command_name" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_system_deps: nothing to do (chromium, postgresql and pango present)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "install_system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
