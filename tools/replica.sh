#!/usr/bin/env bash
# The read-only work of quote_process on a real PostgreSQL replica: a primary
# cluster and a hot standby in streaming replication, both our own and removed
# at the end, and Odoo started with db_replica_host/db_replica_port pointing at
# the standby. tools/replica_check.py then calls, as a salesperson and over
# HTTP as the web client does, what must read on the replica (price guidance,
# price explanation, Quote Analysis) and what must write on the primary (Mark
# as Sent), and checks in the standby's statement log where each ran.
#
# Prints "replica: N passed, N failed"; exit status 0 when all passed.
# Needs the PostgreSQL programs (pg_basebackup included) that tools/bootstrap.sh
# finds (the machine's, QP_PG_BINDIR, or pgserver's).
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
source "$repo/tools/bootstrap.sh"
set -e
find_odoo_python

workdir=$(mktemp -d -t quote_process_replica.XXXXXX)
chmod 755 "$workdir"
db="quote_process_replica_$$"
standby=$workdir/standby

cleanup() {
    if [ -f "$standby/postmaster.pid" ]; then
        qp_as_pg "$QP_PG_BIN/pg_ctl" -D "$standby" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    stop_postgres
    rm -rf "$workdir"
}
trap cleanup EXIT

# A primary of our own, whatever PostgreSQL this machine has configured: the
# standby is made from it with pg_basebackup, which needs a replication right.
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE
QP_PG_EMBEDDED=1 QP_PG_DATA=$workdir/primary QP_PG_PORT='' ensure_postgres
export ODOO_RC="$workdir/odoo.conf"
printf '[options]\ndata_dir = %s/filestore\n' "$workdir" >"$ODOO_RC"
[ -x "$QP_PG_BIN/pg_basebackup" ] || qp_die "no pg_basebackup in $QP_PG_BIN."

qp_step "Installing quote_process on $db (primary, no demo data)"
(cd "$workdir" && qp_odoo --database "$db" --addons-path "$repo" --init quote_process \
    --without-demo=all --no-http --workers 0 --max-cron-threads 0 --stop-after-init \
    --log-level warn) >"$workdir/install.log" 2>&1 ||
    { cat "$workdir/install.log" >&2; qp_die "quote_process did not install; log above."; }
qp_done

qp_step "Making the standby (pg_basebackup, streaming replication)"
mkdir -p "$standby"
chmod 700 "$standby"
if [ "$(id -u)" = 0 ]; then chown -R "$QP_PG_OWNER" "$workdir/primary" "$standby"; fi
qp_as_pg "$QP_PG_BIN/pg_basebackup" --host "$PGHOST" --port "$PGPORT" --username "$PGUSER" \
    --pgdata "$standby" --write-recovery-conf --wal-method stream --checkpoint fast
rm -f "$standby/postmaster.pid"
standby_port=$((PGPORT + 1))
while qp_port_in_use "$standby_port"; do standby_port=$((standby_port + 1)); done
# Every statement logged, with the application (Odoo's connections name their
# process): where each call ran is read there.
qp_as_pg setsid "$QP_PG_BIN/pg_ctl" -D "$standby" -l "$standby/postgres.log" -w -t 60 start -o \
    "-p $standby_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c hot_standby=on -c log_statement=all -c log_line_prefix='%m [%p] %d %a: '" \
    >/dev/null || { tail -20 "$standby/postgres.log" >&2; qp_die "the standby did not start."; }
qp_done

http_port=${QP_REPLICA_HTTP_PORT:-8369}
while qp_port_in_use "$http_port"; do http_port=$((http_port + 1)); done
cd "$workdir"
"$ODOO_PYTHON" "$repo/tools/replica_check.py" \
    --addons-path "$repo" --database "$db" \
    --standby-port "$standby_port" --standby-log "$standby/postgres.log" \
    --http-port "$http_port" --workdir "$workdir"
