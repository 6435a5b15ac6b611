#!/usr/bin/env bash
# Checks of tools/bootstrap.sh with real interpreters, virtual environments and
# PostgreSQL processes (a minute at most): which Odoo is used, how a half-built
# environment is treated, the embedded cluster's free port, its reuse and the
# recovery of a stale lock. Run by .ci/run; prints "N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d -t qp_bootstrap_test.XXXXXX)
chmod 755 "$tmp"
passed=0
failed=0
pids=()

finish() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -f "$tmp/data/postmaster.pid" ]; then
        kill -9 "$(head -1 "$tmp/data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap finish EXIT

check() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        echo "FAILED: $name" >&2
    fi
}

# Run bootstrap functions in a fresh shell: "run OUT_FILE COMMANDS".
run() {
    local out=$1
    shift
    bash -c "set -euo pipefail; source '$repo/tools/bootstrap.sh'; $*" >"$out" 2>&1
}

contains() { grep -q -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; return 1; }; }

# A real interpreter that imports an Odoo of another series (18.0).
mkdir -p "$tmp/odoo18/odoo"
echo "serie = '18.0'" >"$tmp/odoo18/odoo/release.py"
touch "$tmp/odoo18/odoo/__init__.py"
cat >"$tmp/python-odoo18" <<EOF
#!/bin/sh
PYTHONPATH=$tmp/odoo18 exec python3 "\$@"
EOF
chmod +x "$tmp/python-odoo18"

# A real interpreter without ensurepip, as Debian's python3 without python3-venv.
mkdir -p "$tmp/noensurepip/ensurepip"
echo "raise ImportError('ensurepip is not available')" >"$tmp/noensurepip/ensurepip/__init__.py"
cat >"$tmp/python-novenv" <<EOF
#!/bin/sh
PYTHONPATH=$tmp/noensurepip:$tmp/odoo18 exec python3 "\$@"
EOF
chmod +x "$tmp/python-novenv"

# -- finding Odoo
run "$tmp/out0" "unset ODOO_PYTHON; QP_PYTHON=$tmp/python-novenv QP_VENV=$tmp/venv0 find_odoo_python"
check "a python3 without venv support is named, with the package to install" \
    contains "$tmp/out0" "apt install python3-venv"
check "... and nothing is left behind" test ! -e "$tmp/venv0"

run "$tmp/out1" "ODOO_PYTHON=$tmp/python-odoo18 find_odoo_python"
check "ODOO_PYTHON with Odoo 18.0 is refused" test $? = 2
check "... and the error names both versions" contains "$tmp/out1" "has Odoo 18.0; quote_process needs Odoo 19.0"

run "$tmp/out2" "ODOO_PYTHON=$tmp/nowhere/python find_odoo_python"
check "ODOO_PYTHON that cannot import odoo is refused" contains "$tmp/out2" "cannot import odoo"

# The Odoo 19.0 of this machine (CI exports the one it found or set up).
python=${ODOO_PYTHON:-python3}
odoo_python=$("$python" -c "import odoo.release, sys; print(sys.executable if odoo.release.serie == '19.0' else '')" 2>/dev/null)
if [ -n "$odoo_python" ]; then
    run "$tmp/out3" "unset ODOO_PYTHON; QP_PYTHON=$python find_odoo_python; echo \"=\$ODOO_PYTHON= =\$ODOO_BIN=\""
    check "a python3 with Odoo 19.0 is used as it is" contains "$tmp/out3" "=$odoo_python= =/"

    # A finished project environment (stamp written) is used...
    mkdir -p "$tmp/venv/bin"
    printf '#!/bin/sh\nexec "%s" "$@"\n' "$odoo_python" >"$tmp/venv/bin/python"
    chmod +x "$tmp/venv/bin/python"
    touch "$tmp/venv/.qp-complete"
    run "$tmp/out4" "unset ODOO_PYTHON; QP_PYTHON=$tmp/python-odoo18 QP_VENV=$tmp/venv find_odoo_python; echo \"=\$ODOO_PYTHON=\""
    check "a finished .venv is used when python3 has another Odoo" contains "$tmp/out4" "=$odoo_python="
    check "... saying why" contains "$tmp/out4" "has Odoo 18.0, not 19.0: using the project's environment $tmp/venv"
    # ... a half-built one (no stamp) is rebuilt, and removed when that fails.
    rm "$tmp/venv/.qp-complete"
    run "$tmp/out5" "unset ODOO_PYTHON; QP_PYTHON=$tmp/python-odoo18 QP_VENV=$tmp/venv QP_ODOO_SOURCE=$tmp/no-such-source find_odoo_python"
    check "a half-built .venv is not used" test $? = 2
    check "... a bad QP_ODOO_SOURCE is named" contains "$tmp/out5" "QP_ODOO_SOURCE=$tmp/no-such-source is neither"
    check "... and the failed build leaves no .venv" test ! -e "$tmp/venv"
else
    echo "skipped: $python has no Odoo 19.0 (environment checks)"
fi

# -- embedded PostgreSQL
# The first free port from 54320 on, taken here: the cluster must pick another.
python3 -u -c "
import socket, time
for port in range(54320, 54400):
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', port))
    except OSError:
        continue
    s.listen()
    print(port)
    break
time.sleep(120)" >"$tmp/busy" &
pids+=($!)
while [ ! -s "$tmp/busy" ]; do sleep 0.1; done
busy=$(cat "$tmp/busy")
pg="unset PGHOST PGPORT PGUSER; QP_PG_EMBEDDED=1 QP_PG_DATA=$tmp/data"
mkdir -p "$tmp/repo"
# shellcheck disable=SC2016 # expanded by the shell that runs it
sql='$QP_PG_BIN/psql -h 127.0.0.1 -p $PGPORT -U odoo -d postgres -Atc "SELECT 42"'
run "$tmp/out6" "$pg ensure_postgres; echo port=\$PGPORT; $sql"
check "an embedded cluster starts and answers" contains "$tmp/out6" "^42$"
port=$(sed -n 's/^port=//p' "$tmp/out6")
# Any free port will do: one below it may be free to a server (SO_REUSEADDR)
# and not to the bind above (a closed connection's TIME_WAIT).
check "... on a free port, not the one in use" test "${port:-$busy}" != "$busy"
pid=$(head -1 "$tmp/data/postmaster.pid" 2>/dev/null)
check "... and runs as a user other than root" test "$(ps -o user= -p "${pid:-0}")" != root

run "$tmp/out7" "$pg ensure_postgres; $sql"
check "a running cluster of the project is reused" contains "$tmp/out7" "already running (pid $pid)"

if [ -n "$odoo_python" ]; then
    # A database that an Odoo 18.0 made: make run refuses it.
    psql="\$QP_PG_BIN/psql -q -h 127.0.0.1 -p \$PGPORT -U odoo"
    run "$tmp/out12" "$pg ensure_postgres; $psql -d postgres -c 'CREATE DATABASE qp_odoo18' &&
        $psql -d qp_odoo18 -c \"CREATE TABLE ir_module_module (name varchar, state varchar, latest_version varchar);
            INSERT INTO ir_module_module VALUES ('base', 'installed', '18.0.1.3')\" &&
        ODOO_PYTHON=$odoo_python QP_DB=qp_odoo18 QP_HTTP_PORT=$((busy + 100)) $repo/tools/run.sh"
    check "make run refuses a database of another Odoo version" \
        contains "$tmp/out12" "the database 'qp_odoo18' exists and is a database of Odoo 18.0.1.3"
fi

# A killed run: the postmaster dies, its lock file stays.
kill -9 "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
sleep 1
run "$tmp/out9" "$pg ensure_postgres; $sql; stop_postgres"
check "a stale postmaster.pid is recovered" contains "$tmp/out9" "Removing the stale lock"
check "... and the cluster answers again" contains "$tmp/out9" "^42$"
check "stop_postgres stops it" test ! -e "$tmp/data/postmaster.pid"

run "$tmp/out8" "$pg QP_PG_PORT=$busy ensure_postgres"
check "a QP_PG_PORT in use is refused" contains "$tmp/out8" "port $busy (QP_PG_PORT) is in use"

# Without the machine's PostgreSQL: the one of the PyPI package pgserver.
run "$tmp/out13" "$pg QP_PG_DATA= QP_REPO=$tmp/repo QP_PG_BINDIR=pgserver ensure_postgres; echo bin=\$QP_PG_BIN; $sql; stop_postgres"
check "pgserver's PostgreSQL is installed into .pgserver/ and answers" contains "$tmp/out13" "^42$"
check "... from .pgserver/" contains "$tmp/out13" "bin=$tmp/repo/.pgserver/"
system_bin=$(bash -c "source '$repo/tools/bootstrap.sh'; qp_pg_bindir" 2>/dev/null)
if [ -n "$system_bin" ] && ! "$system_bin/pg_ctl" --version | grep -q " 16\."; then
    run "$tmp/out14" "$pg QP_PG_DATA=$tmp/repo/.pgserver/data QP_PG_BINDIR=$system_bin ensure_postgres"
    check "a cluster of another PostgreSQL version is refused, saying what to do" \
        contains "$tmp/out14" "is of PostgreSQL 16, the programs"
fi

run "$tmp/out10" "PGHOST=127.0.0.1 PGPORT=1 ensure_postgres; echo \"started=\${QP_PG_STARTED:-no}\""
check "a configured PostgreSQL (PG*) is used as it is" contains "$tmp/out10" "started=no"

QP_HTTP_PORT=$busy "$repo/tools/run.sh" >"$tmp/out11" 2>&1
check "make run refuses an HTTP port in use" contains "$tmp/out11" "port $busy is in use"

echo "bootstrap: $passed passed, $failed failed"
[ "$failed" = 0 ]
