#!/bin/sh
# An embedded PostgreSQL 15 cluster under a directory of the project.
#   scripts/pg.sh init  DIR   create DIR/data (superuser "kiemtra", socket in DIR/run)
#   scripts/pg.sh start DIR PORT
#   scripts/pg.sh stop  DIR
# When run as root the cluster belongs to the unprivileged "postgres" user,
# since PostgreSQL refuses to run as root. Only a Unix socket is opened, in a
# directory only the cluster's owner (and root) can enter.
set -eu

bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
[ -n "$bindir" ] || { echo "PostgreSQL 15 server binaries not found (install postgresql-15)" >&2; exit 1; }

cmd=${1:?usage: pg.sh init|start|stop DIR [PORT]}
dir=${2:?usage: pg.sh init|start|stop DIR [PORT]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
init)
    if [ -f "$dir/data/PG_VERSION" ]; then exit 0; fi
    mkdir -p "$dir/data" "$dir/run"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir" "$dir/data" "$dir/run"
    chmod 700 "$dir/data" "$dir/run"
    as_owner "$bindir/initdb" -D "$dir/data" -U kiemtra -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=reject >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
# kiemtra embedded cluster
listen_addresses = ''
unix_socket_directories = '$dir/run'
max_connections = 300
shared_buffers = 256MB
synchronous_commit = on
fsync = on
log_min_duration_statement = 1000
CONF
    ;;
start)
    port=${3:?usage: pg.sh start DIR PORT}
    # Slow statements are logged without their parameters (a student's
    # answer, a password hash), in a file only the cluster's owner reads.
    # Set at every start, so that clusters made earlier get them too.
    touch "$dir/postgres.log"
    chmod 600 "$dir/postgres.log"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/postgres.log"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -c log_parameter_max_length=0 -c log_parameter_max_length_on_error=0 -c log_file_mode=0600" \
        start >/dev/null
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
*)
    echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
