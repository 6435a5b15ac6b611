#!/usr/bin/env bash
# Run the whole quote_process test suite on a fresh, throwaway database and
# print a closing line "N passed, N failed".
#
# Odoo and PostgreSQL: see tools/bootstrap.sh (an Odoo 19.0 of python3 or of
# ODOO_PYTHON, else the project's .venv/; the PostgreSQL of ODOO_RC/~/.odoorc
# or the PG* variables, else the project's own cluster, stopped on exit).
# Optional: QP_TEST_TAGS (default /quote_process), ODOO_ADDONS_PATH (extra
# addons folders), QP_KEEP_DB=1 to keep the database afterwards.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
source "$repo/tools/bootstrap.sh"
test_port=${QP_TEST_HTTP_PORT:-8169}
if qp_port_in_use "$test_port"; then
    echo "error: port $test_port, for the browser tests, is in use (another test run?):" \
        "choose another with QP_TEST_HTTP_PORT=8170 make test." >&2
    echo "0 passed, 1 failed"
    exit 2
fi
# Odoo and PostgreSQL are set up failing at the first error.
set -e
find_odoo_python

db="quote_process_test_$(date +%Y%m%d%H%M%S)_$$"
log=$(mktemp -t quote_process_test.XXXXXX.log)
tags=${QP_TEST_TAGS:-/quote_process}
addons="$repo${ODOO_ADDONS_PATH:+,$ODOO_ADDONS_PATH}"

cleanup() {
    if [ -z "${QP_KEEP_DB:-}" ]; then
        qp_odoo db drop "$db" >/dev/null 2>&1 || true
    fi
    stop_postgres
}
trap cleanup EXIT
ensure_postgres
set +e

echo "Testing quote_process on throwaway database $db (log: $log)"
# Run from the repository root so that no addons folder shadows a standard
# Python module.
cd "$repo"
qp_odoo \
    --database "$db" \
    --addons-path "$addons" \
    --init quote_process \
    --with-demo \
    --test-enable \
    --test-tags "$tags" \
    --http-port "$test_port" \
    --workers 0 \
    --max-cron-threads 0 \
    --stop-after-init \
    --log-level test 2>&1 | tee "$log"
odoo_rc=${PIPESTATUS[0]}

summary=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database" "$log" | tail -1)
# Errors logged outside of any test (a failing install, a broken view) count too.
stray=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log")
if [ -z "$summary" ]; then
    echo "No test report found: the module did not install or no test ran." >&2
    echo "0 passed, $((stray > 0 ? stray : 1)) failed"
    exit 1
fi
read -r failed errors total < <(echo "$summary" |
    sed -E 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/')
bad=$((failed + errors))
passed=$((total - bad))
if [ "$bad" -eq 0 ] && [ "$stray" -gt 0 ]; then
    echo "$stray error(s) logged outside the tests; see $log" >&2
    bad=$stray
fi
if [ "$total" -eq 0 ]; then
    echo "No test ran." >&2
    bad=$((bad > 0 ? bad : 1))
fi
echo "$passed passed, $bad failed"
if [ "$bad" -ne 0 ] || [ "$odoo_rc" -ne 0 ]; then
    exit 1
fi
