#!/usr/bin/env bash
# Start the Debian PostgreSQL cluster on 127.0.0.1 and give the tests a role that may create databases.
# Idempotent: a running cluster, an existing role and an existing password are reused.
#
# The password is generated once (never committed) and kept with the connection URL in a 0600 file,
#   ${CITYSTAT_POSTGRES_URL_FILE:-$HOME/.config/citystat/test-postgres-url}
# which .ci/run exports as CITYSTAT_TEST_POSTGRES_URL (tests/postgres_helpers.py also reads the file when the
# variable is unset). The URL is never printed: it holds the password.
set -euo pipefail

ROLE="${CITYSTAT_POSTGRES_ROLE:-citystat_test}"
PORT="${CITYSTAT_POSTGRES_PORT:-5432}"
URL_FILE="${CITYSTAT_POSTGRES_URL_FILE:-$HOME/.config/citystat/test-postgres-url}"

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "start_postgres: PostgreSQL is not installed (scripts/install_system_deps.sh installs it)" >&2
  exit 1
fi

as_postgres() {  # run a command as the postgres OS user (peer authentication on the local socket)
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# The newest installed server version; its cluster `main` (created when the package's post-install did not).
version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  as_root=""; [ "$(id -u)" -ne 0 ] && as_root="sudo"
  $as_root pg_createcluster "$version" main --port "$PORT" >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  as_root=""; [ "$(id -u)" -ne 0 ] && as_root="sudo"
  $as_root pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { echo "start_postgres: the server did not come up on 127.0.0.1:$PORT" >&2; exit 1; }

# The password: the one already in the URL file, else a new random one.
mkdir -p "$(dirname "$URL_FILE")"
password=""
if [ -s "$URL_FILE" ]; then
  password="$(sed -E 's#^postgresql://[^:]+:([^@]+)@.*#\1#' "$URL_FILE")"
fi
if [ -z "$password" ] || [ "$password" = "$(cat "$URL_FILE" 2>/dev/null)" ]; then
  password="$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')"
fi

# Role with CREATEDB (each test builds in its own throwaway database) and its own database.
as_postgres psql -q -v ON_ERROR_STOP=1 -v role="$ROLE" -v password="$password" -d postgres <<'SQL' >/dev/null
select format('create role %I login createdb', :'role')
where not exists (select from pg_roles where rolname = :'role') \gexec
select format('alter role %I with login createdb password %L', :'role', :'password') \gexec
select format('create database %I owner %I', :'role', :'role')
where not exists (select from pg_database where datname = :'role') \gexec
SQL

umask 077
printf 'postgresql://%s:%s@127.0.0.1:%s/%s\n' "$ROLE" "$password" "$PORT" "$ROLE" > "$URL_FILE"
chmod 600 "$URL_FILE"
echo "start_postgres: PostgreSQL $version on 127.0.0.1:$PORT, role $ROLE; connection URL in $URL_FILE"
