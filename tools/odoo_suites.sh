#!/usr/bin/env bash
# make odoo-suites: Odoo's own sales tests beside quote_process (see
# tools/odoo_suites.py), on the Odoo and the PostgreSQL that make test uses
# (tools/bootstrap.sh: set up when the machine has none, stopped on exit).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
source "$repo/tools/bootstrap.sh"
find_odoo_python
trap stop_postgres EXIT
ensure_postgres
set +e
"$ODOO_PYTHON" "$repo/tools/odoo_suites.py"
