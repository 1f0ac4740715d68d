#!/usr/bin/env bash
# Start Debian's PostgreSQL and make an empty test database for the store tests (idempotent).
# Prints the URL to put in EXTRACTOR_TEST_PG_URL.
set -euo pipefail
exec 3>&1 1>&2  # only the URL goes to standard output
read -r version cluster _ < <(pg_lsclusters -h | head -1) || true
if [ -z "${version:-}" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  cluster=main
  pg_createcluster "$version" "$cluster" >/dev/null 3>&-
fi
pg_ctlcluster "$version" "$cluster" start 2>/dev/null 3>&- || true  # the daemon must not hold the caller's pipe
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
psql_admin() { runuser -u postgres -- psql -qtAX "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='extractor'")" != "1" ]; then
  psql_admin -c "CREATE ROLE extractor LOGIN PASSWORD 'extractor'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='extractor_test'")" != "1" ]; then
  runuser -u postgres -- createdb -O extractor extractor_test
fi
echo >&3 "postgresql+psycopg://extractor:extractor@127.0.0.1:5432/extractor_test"
