#!/usr/bin/env bash
# Run every benchmark and print one table, the targets beside the figures.
#
# Odoo and PostgreSQL as for make test (tools/bootstrap.sh). Two template
# databases are installed once and kept: QP_BENCH_TEMPLATE (default
# quote_process_bench_tmpl: quote_process with demo data) and QP_BENCH_ODOO_DB
# (default quote_process_bench_odoo: sale_management and sale_crm with demo
# data, Odoo alone). Each run copies the first to a throwaway database,
# populates it with QP_BENCH_QUOTES quotations (default 2000; the issue's scale
# is 100000), runs benchmarks/populate.py's benchmarks on it (bench_save.py
# against the Odoo-alone database) and drops the copy (QP_BENCH_DB names it).
# QP_BENCH_FRESH=1 installs the templates again.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
source "$repo/tools/bootstrap.sh"
find_odoo_python

template=${QP_BENCH_TEMPLATE:-quote_process_bench_tmpl}
odoo_db=${QP_BENCH_ODOO_DB:-quote_process_bench_odoo}
db=${QP_BENCH_DB:-quote_process_bench_$(date +%Y%m%d%H%M%S)_$$}
quotes=${QP_BENCH_QUOTES:-2000}
addons="$repo${ODOO_ADDONS_PATH:+,$ODOO_ADDONS_PATH}"

cleanup() {
    qp_odoo db drop "$db" >/dev/null 2>&1 || true
    stop_postgres
}
trap cleanup EXIT
ensure_postgres

# Prints "yes" when the database exists with the module installed.
installed() {
    "$ODOO_PYTHON" - "$1" "$2" <<'PY'
import sys

from odoo.tools import config

config.parse_config(["--log-level", "critical"], setup_logging=False)
import odoo.sql_db  # noqa: E402
from odoo.service import db as db_service  # noqa: E402

name, module = sys.argv[1:3]
if not db_service.exp_db_exist(name):
    print("no")
    sys.exit()
with odoo.sql_db.db_connect(name).cursor() as cr:
    cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [module])
    row = cr.fetchone()
print("yes" if row and row[0] == "installed" else "no")
PY
}

install() {
    local name=$1 modules=$2
    if [ -n "${QP_BENCH_FRESH:-}" ] || [ "$(installed "$name" "${modules%%,*}")" != yes ]; then
        qp_odoo db drop "$name" >/dev/null 2>&1 || true
        echo "Installing $modules on $name (once)..."
        # Run from the repository root so that no addons folder shadows a
        # standard Python module.
        (cd "$repo" && qp_odoo --database "$name" --addons-path "$addons" \
            --init "$modules" --with-demo --stop-after-init --workers 0 \
            --max-cron-threads 0 --log-level warn)
    fi
}

install "$template" quote_process
install "$odoo_db" sale_management,sale_crm

"$ODOO_PYTHON" - "$template" "$db" "$addons" <<'PY'
import sys

from odoo.tools import config

config.parse_config(
    ["--log-level", "critical", "--addons-path", sys.argv[3]], setup_logging=False
)
from odoo.service import db as db_service  # noqa: E402

db_service.exp_duplicate_database(sys.argv[1], sys.argv[2])
PY

cd "$repo/benchmarks"
"$ODOO_PYTHON" populate.py -d "$db" --odoo-database "$odoo_db" \
    --quotes "$quotes" --addons-path "$addons"
