#!/bin/sh
# `make run`: embedded PostgreSQL under ./var, migrations, demo data, server.
# Ctrl-C stops the server, then PostgreSQL.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
var="$root/var"
pgport=${KIEMTRA_PG_PORT:-5488}
bin="$root/build/kiemtra"

mkdir -p "$var"
# The key that encrypts số định danh at rest: made once, kept with the data.
if [ ! -s "$var/secret.key" ]; then
    (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$var/secret.key")
fi
export KIEMTRA_SECRET_KEY_FILE="$var/secret.key"
scripts/pg.sh init "$var/pg"
scripts/pg.sh start "$var/pg" "$pgport"

stop_pg() { scripts/pg.sh stop "$var/pg" || true; }
trap stop_pg EXIT

sock="$var/pg/run"
psql="psql -X -q -v ON_ERROR_STOP=1 -h $sock -p $pgport -U kiemtra"
if ! $psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'kiemtra'" | grep -q 1; then
    $psql -d postgres -c "CREATE DATABASE kiemtra"
fi

# The same settings `eval "$(scripts/env.sh)"` gives the command line.
eval "$(KIEMTRA_PG_DIR="$var/pg" scripts/env.sh)"
"$bin" migrate
"$bin" taxonomy import demo/outcomes-toan10.csv
$psql -d kiemtra -c "ALTER ROLE kiemtra_app WITH LOGIN"
"$bin" demo --credentials "$var/demo-credentials.json"

port=${KIEMTRA_PORT:-8080}
echo
echo "kiemtra is serving http://${KIEMTRA_LISTEN:-127.0.0.1}:$port  (Ctrl-C to stop)"
echo "Command line in another terminal: eval \"\$(scripts/env.sh)\"; kiemtra --help"
"$bin" serve &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true' INT TERM
wait $pid || true
wait $pid 2>/dev/null || true
