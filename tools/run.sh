#!/usr/bin/env bash
# Start Odoo at http://localhost:8069 on a local database with quote_process
# and its demo data installed; the database is created on the first run.
#
# Odoo and PostgreSQL: see tools/bootstrap.sh (an Odoo 19.0 of python3 or of
# ODOO_PYTHON, else the project's .venv/; the PostgreSQL of ODOO_RC/~/.odoorc
# or the PG* variables, else the project's own cluster, stopped on exit).
# Optional: QP_DB (default quote_process), QP_HTTP_PORT (default 8069),
# QP_HTTP_INTERFACE (default 127.0.0.1; 0.0.0.0 for other machines),
# ODOO_ADDONS_PATH.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
source "$repo/tools/bootstrap.sh"

db=${QP_DB:-quote_process}
port=${QP_HTTP_PORT:-8069}
addons="$repo${ODOO_ADDONS_PATH:+,$ODOO_ADDONS_PATH}"
cd "$repo"

if qp_port_in_use "$port"; then
    qp_die "port $port is in use (another Odoo?): stop it, or choose another port with QP_HTTP_PORT=8070 make run."
fi
find_odoo_python
trap stop_postgres EXIT
ensure_postgres

# "installed", "missing" (no database or addon not installed), or an error.
state=$("$ODOO_PYTHON" - "$db" "$addons" "$QP_ODOO_SERIES" <<'PY'
import sys

from odoo.tools import config

db, addons, series = sys.argv[1:4]
config.parse_config(
    ["--addons-path", addons, "--http-interface", "127.0.0.1"], setup_logging=False
)
import odoo.sql_db  # noqa: E402
from odoo.service import db as db_service  # noqa: E402

if not db_service.exp_db_exist(db):
    print("missing")
    sys.exit()
with odoo.sql_db.db_connect(db).cursor() as cr:
    cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
    if not cr.fetchone()[0]:
        print("not an Odoo database")
        sys.exit()
    cr.execute(
        "SELECT name, state, latest_version FROM ir_module_module"
        " WHERE name IN ('base', 'quote_process')"
    )
    modules = {name: (state, version) for name, state, version in cr.fetchall()}
base_version = (modules.get("base") or (None, None))[1] or ""
if not base_version.startswith(series + "."):
    print(f"a database of Odoo {base_version or '(unknown version)'}")
else:
    print((modules.get("quote_process") or ("missing",))[0])
PY
) || qp_die "could not read the database '$db' (see the error above)."

case "$state" in
installed) ;;
missing | uninstalled | to\ install)
    qp_step "Installing quote_process with demo data on database '$db' (first time only)"
    qp_odoo --database "$db" --addons-path "$addons" --init quote_process \
        --with-demo --stop-after-init --no-http --log-level warn
    qp_done
    ;;
*)
    qp_die "the database '$db' exists and is $state, not one of Odoo $QP_ODOO_SERIES with" \
        "quote_process: use another name (QP_DB=quote_process2 make run) or drop it."
    ;;
esac

echo
echo "Odoo with quote_process: http://localhost:$port/odoo?db=$db"
echo "Log in as admin / admin (demo salesperson: demo / demo). Ctrl+C stops it."
echo
# In the background so that Ctrl+C (or a SIGINT/SIGTERM to this script) is
# passed on once; Odoo stops, then the EXIT trap stops PostgreSQL.
setsid "${QP_ODOO_CMD[@]}" --database "$db" --db-filter "^$db\$" --addons-path "$addons" \
    --http-port "$port" --http-interface "${QP_HTTP_INTERFACE:-127.0.0.1}" &
odoo_pid=$!
trap 'kill -INT "$odoo_pid" 2>/dev/null || true' INT TERM
rc=0
while kill -0 "$odoo_pid" 2>/dev/null; do
    wait "$odoo_pid" && rc=0 || rc=$?
done
exit "$rc"
