#!/bin/sh
# The settings that let the command line reach the database of `make run`
# (the cluster under var/pg, started by `make run`, which must be running).
#   eval "$(scripts/env.sh)"          export them into the current shell
#   scripts/env.sh CMD [ARG...]       run one command with them
# KIEMTRA_PG_DIR chooses another cluster directory (default var/pg). The
# port is read from the running cluster, so nothing here can disagree with it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${KIEMTRA_PG_DIR:-$root/var/pg}
pidfile="$dir/data/postmaster.pid"
if [ ! -r "$pidfile" ]; then
    echo "env.sh: no running PostgreSQL in $dir (start it with 'make run' in another terminal)" >&2
    exit 1
fi
# postmaster.pid: line 4 is the port, line 5 the socket directory.
port=$(sed -n 4p "$pidfile")
sock=$(sed -n 5p "$pidfile")
[ -n "$sock" ] || sock="$dir/run"
admin="host=$sock port=$port dbname=kiemtra user=kiemtra"
app="host=$sock port=$port dbname=kiemtra user=kiemtra_app"
key=${KIEMTRA_SECRET_KEY_FILE:-$root/var/secret.key}

if [ $# -gt 0 ]; then
    export KIEMTRA_ADMIN_DATABASE_URL="$admin" KIEMTRA_DATABASE_URL="$app" KIEMTRA_SECRET_KEY_FILE="$key"
    exec "$@"
fi
printf "export KIEMTRA_ADMIN_DATABASE_URL='%s'\n" "$admin"
printf "export KIEMTRA_DATABASE_URL='%s'\n" "$app"
printf "export KIEMTRA_SECRET_KEY_FILE='%s'\n" "$key"
printf "export PATH='%s/build':\"\$PATH\"\n" "$root"
