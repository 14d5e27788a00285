#!/usr/bin/env bash
# Start PostgreSQL and Redis on 127.0.0.1 when they are not already up (tests need both),
# and install Chromium when it is missing (the browser tests).
set -u
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
# The warehouse's memory settings (deploy/postgres-memory.conf): applied once with ALTER
# SYSTEM and a restart, so the near-duplicate index's cost at scale is measured on the server
# as configured. If the server does not come back with them, they are reset and it restarts.
pg_sql() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -tAq -c "$1" 2>/dev/null; }
pg_restart() {
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart \
    >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && return 0; sleep 1; done
  return 1
}
conf="$(dirname "$0")/../deploy/postgres-memory.conf"
changed=0
while IFS='=' read -r name value; do
  name="$(echo "$name" | xargs)"; value="$(echo "$value" | xargs)"
  [ -z "$name" ] && continue
  if [ "$(pg_sql "SHOW $name")" != "$value" ]; then
    pg_sql "ALTER SYSTEM SET $name = '$value'" && changed=1
  fi
done < <(grep -v '^\s*#' "$conf")
if [ "$changed" = 1 ]; then
  echo "restarting PostgreSQL with deploy/postgres-memory.conf"
  if ! pg_restart; then
    echo "PostgreSQL did not restart with those settings: resetting them"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main stop \
      >/dev/null 2>&1 || true
    rm -f "$(ls -d /var/lib/postgresql/*/main | head -1)/postgresql.auto.conf"
    pg_restart || echo "PostgreSQL is down"
  fi
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
# Headless Chromium renders the run report and Data Docs in tests/browser/.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    >/dev/null 2>&1 || echo "could not install chromium: tests/browser will be skipped"
fi
exit 0
