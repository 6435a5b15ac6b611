#!/usr/bin/env bash
# Start Odoo at http://localhost:8069 on a local database with quote_process
# and its demo data installed; the database is created on the first run.
#
# Database connection: the standard Odoo config file (ODOO_RC or ~/.odoorc)
# or the usual PG* environment variables. Optional: QP_DB (default
# quote_process), QP_HTTP_PORT (default 8069), ODOO_ADDONS_PATH.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
if ! python3 -c "import odoo.release" 2>/dev/null; then
    echo "error: python3 cannot import odoo. Install Odoo 19.0 so that" \
        "'python3 -c \"import odoo.release\"' works (see README.md)." >&2
    exit 2
fi

db=${QP_DB:-quote_process}
port=${QP_HTTP_PORT:-8069}
addons="$repo${ODOO_ADDONS_PATH:+,$ODOO_ADDONS_PATH}"
cd "$repo"

installed=$(python3 - "$db" "$addons" <<'PY'
import sys

import odoo
from odoo.tools import config

config.parse_config(["--addons-path", sys.argv[2]])
from odoo.service import db as db_service  # noqa: E402

if not db_service.exp_db_exist(sys.argv[1]):
    print("missing")
else:
    import odoo.sql_db

    with odoo.sql_db.db_connect(sys.argv[1]).cursor() as cr:
        cr.execute(
            "SELECT state FROM ir_module_module WHERE name = 'quote_process'"
        )
        row = cr.fetchone()
        print(row[0] if row else "missing")
PY
)

if [ "$installed" != "installed" ]; then
    echo "Installing quote_process with demo data on database '$db' (takes a few minutes)..."
    python3 -m odoo --database "$db" --addons-path "$addons" --init quote_process \
        --with-demo --stop-after-init --log-level warn
fi

echo
echo "Odoo with quote_process: http://localhost:$port/odoo?db=$db"
echo "Log in as admin / admin (demo salesperson: demo / demo)"
echo
exec python3 -m odoo --database "$db" --db-filter "^$db\$" --addons-path "$addons" \
    --http-port "$port"
