#!/usr/bin/env bash
# Create the warehouse role and database next to the Airflow metadata DB.
#
# Mounted into /docker-entrypoint-initdb.d of the postgres service (docker-compose.yml): the
# official postgres image runs it ONCE, on the first start of an empty data volume, as the
# superuser named by POSTGRES_USER. Names and password come from the service environment
# (WAREHOUSE_DB, WAREHOUSE_USER, WAREHOUSE_PASSWORD — see docker-compose.yml); psql's
# :"ident" / :'literal' interpolation quotes them, so no value is ever spliced into SQL.
# Changing WAREHOUSE_PASSWORD later does not alter an existing role: use ALTER ROLE.
set -e

psql -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" \
    --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
    --set=wh_db="${WAREHOUSE_DB:-warehouse}" \
    --set=wh_user="${WAREHOUSE_USER:-warehouse}" \
    --set=wh_password="${WAREHOUSE_PASSWORD:?WAREHOUSE_PASSWORD must be set}" <<'SQL'
CREATE ROLE :"wh_user" LOGIN PASSWORD :'wh_password';
CREATE DATABASE :"wh_db" OWNER :"wh_user";
REVOKE ALL ON DATABASE :"wh_db" FROM PUBLIC;
GRANT ALL PRIVILEGES ON DATABASE :"wh_db" TO :"wh_user";
SQL

echo "01-create-warehouse: created database ${WAREHOUSE_DB:-warehouse} owned by ${WAREHOUSE_USER:-warehouse}"
