#!/bin/bash
# Superset's metadata database, next to Airflow's in the `postgres` service. The
# password comes from SUPERSET_DB_PASSWORD (.env); there is no default. psql reads it
# from the environment (\getenv, psql 15+): on its command line (-v) ps would show it.
set -euo pipefail
: "${SUPERSET_DB_PASSWORD:?set SUPERSET_DB_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv pw SUPERSET_DB_PASSWORD
create user superset with password :'pw';
create database superset owner superset;
SQL
