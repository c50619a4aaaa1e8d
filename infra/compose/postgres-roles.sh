#!/usr/bin/env bash
# Run once by the postgres image on a fresh volume (/docker-entrypoint-initdb.d), as its superuser:
# the owner campaign_events with the database of CE_DATABASE, and the login of each job with its
# password from its compose secret (/run/secrets/<name with - for _>) — what infra/lib.sh provision_postgres does
# for the local stack. The grants come from database/roles/*.sql (migrate; the source's admin).
set -euo pipefail
password_of() {
  # the compose secret of the job, /run/secrets/<name with - for _> (docker-compose.yml `secrets:`)
  local file="/run/secrets/$(printf '%s' "$1" | tr '_' '-')"
  [ -r "$file" ] || { echo "campaign-events: no secret $file for $1 (docker-compose.yml secrets:)" >&2; exit 1; }
  cat "$file"
}
sql() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -qAt "$@"; }
for role in campaign_events campaign_events_sync campaign_events_adapter campaign_events_reconcile \
            campaign_events_reader campaign_events_pipeline campaign_events_source; do
  password="$(password_of "$role")"   # an assignment, so a missing secret stops the init (set -e)
  sql -v role="$role" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password')\gexec
SQL
done
# what takes a superuser (or CREATEROLE), here rather than in database/roles/*.sql, which the
# tables' owner runs: REPLICATION, and the memberships those files grant only when missing
sql -c "ALTER ROLE campaign_events_source REPLICATION" \
    -c "GRANT campaign_events_sync, campaign_events_adapter, campaign_events_reconcile TO campaign_events_pipeline" \
    -c "GRANT pg_read_all_stats TO campaign_events_reader"
sql -v db="$CE_DATABASE" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER campaign_events', :'db') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')\gexec
SQL
