#!/bin/sh
# Run by the postgres image once, on an empty data directory: the role Temporal connects as. It may create
# its two databases (and owns them) but is not a superuser: a leaked Temporal password must not give
# the whole cluster away.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres --set pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD :'pw';
SQL
