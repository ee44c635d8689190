#!/bin/bash
# Metabase's application database, next to Airflow's in the `postgres` service. The
# password comes from METABASE_DB_PASSWORD (.env); there is no default.
set -euo pipefail
: "${METABASE_DB_PASSWORD:?set METABASE_DB_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 -v pw="$METABASE_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
create user metabase with password :'pw';
create database metabase owner metabase;
SQL
