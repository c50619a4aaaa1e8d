#!/bin/sh
# Runs once when the postgres container initialises: the second database stands for the
# external one, and the user may use logical replication, as with infra/up.sh.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
ALTER ROLE "$POSTGRES_USER" REPLICATION;
CREATE DATABASE campaign_source OWNER "$POSTGRES_USER";
SQL
