#!/usr/bin/env bash
# Install the Debian packages CityStat needs beyond Python: headless Chromium for the dashboard
# browser tests and screenshots, and PostgreSQL for the tests of the PostgreSQL instance and warehouse
# (scripts/start_postgres.sh starts it). Idempotent: does nothing when everything is already there, and
# runs `apt-get update` at most once per call (apt can't find packages on a fresh machine without it).
set -euo pipefail

# package:command pairs; a package is installed only when its command is missing.
REQUIRED=(
  "chromium:chromium"
  "postgresql:pg_ctlcluster"
)

missing=()
for entry in "${REQUIRED[@]}"; do
  package="${entry%%:*}"
  command_name="${entry##*:}"
  if ! command -v "$command_name" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_system_deps: nothing to do (chromium and postgresql present)"
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
