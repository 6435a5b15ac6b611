#!/usr/bin/env bash
# Upgrade and uninstall check of quote_process on a real database.
#
#   scripts/check_upgrade.sh DATABASE [TEMPLATE]
#
# Odoo and PostgreSQL as for make run (tools/bootstrap.sh): connection from the
# PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD), else the project's
# cluster. With
# TEMPLATE, DATABASE is first (re)created from it (it needs sale_management and
# sale_crm). Installs quote_process, changes settings, the reminder's scheduled
# action, a mail template and noupdate data as an administrator would, runs
# -u quote_process and checks the changes survived, then uninstalls the addon
# and checks the sales orders are still there. Exit status 0 when all holds.
set -euo pipefail
db=${1:?usage: $0 DATABASE [TEMPLATE]}
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
source "$repo/tools/bootstrap.sh"
find_odoo_python
trap stop_postgres EXIT
ensure_postgres
args=(-d "$db" --addons-path "$repo" --db_host "${PGHOST:-127.0.0.1}"
      --db_port "${PGPORT:-5432}" --db_user "${PGUSER:-odoo}" --log-level error)
[ -n "${PGPASSWORD:-}" ] && args+=(--db_password "$PGPASSWORD")
odoo=("${QP_ODOO_CMD[@]}" server "${args[@]}")
if [ -n "${2:-}" ]; then
    "${QP_PG_BIN:+$QP_PG_BIN/}dropdb" --if-exists "$db"
    "${QP_PG_BIN:+$QP_PG_BIN/}createdb" -T "$2" "$db"
fi
shell() { qp_odoo shell "${args[@]}" 2>&1 | grep -E "^(CHECK|FAIL)|Error" || true; }

echo "== install"
"${odoo[@]}" -i quote_process --stop-after-init --no-http

echo "== change settings, scheduled action, template and data"
shell <<'PY'
env.company.write({"quote_followup_days": 7, "quote_deviation_tolerance": 1.5})
cron = env.ref("quote_process.ir_cron_remind_overdue_quotes")
cron.write({"interval_number": 3, "active": False})
env.ref("quote_process.mail_template_quote_followup_reminder").subject = "Changed subject"
env.ref("quote_process.discount_authority_salesman").max_deviation_percent = 12
env.ref("quote_process.deviation_reason_competitor").name = "Changed reason"
order = env["sale.order"].create({
    "partner_id": env.ref("base.res_partner_2").id, "client_order_ref": "UPGRADE-CHECK",
    "order_line": [(0, 0, {"product_id": env["product.product"].search([("sale_ok", "=", True)], limit=1).id})],
})
env["ir.config_parameter"].set_param("check_upgrade.orders", env["sale.order"].search_count([]))
env.cr.commit()
print("CHECK changed; orders:", env["sale.order"].search_count([]))
PY

echo "== upgrade"
"${odoo[@]}" -u quote_process --stop-after-init --no-http

echo "== check after upgrade"
out=$(shell <<'PY'
cron = env.ref("quote_process.ir_cron_remind_overdue_quotes")
checks = {
    "followup days": env.company.quote_followup_days == 7,
    "tolerance": env.company.quote_deviation_tolerance == 1.5,
    "cron interval": cron.interval_number == 3,
    "cron inactive": not cron.active,
    "template": env.ref("quote_process.mail_template_quote_followup_reminder").subject == "Changed subject",
    "authority": env.ref("quote_process.discount_authority_salesman").max_deviation_percent == 12,
    "reason": env.ref("quote_process.deviation_reason_competitor").name == "Changed reason",
    "quote": bool(env["sale.order"].search([("client_order_ref", "=", "UPGRADE-CHECK")])),
}
for name, ok in checks.items():
    print("CHECK" if ok else "FAIL", "upgrade keeps", name)
PY
)
echo "$out"

echo "== uninstall"
shell <<'PY'
env["ir.module.module"].search([("name", "=", "quote_process")]).button_immediate_uninstall()
env.cr.commit()
print("CHECK uninstalled")
PY

echo "== check after uninstall"
out2=$(shell <<'PY'
module = env["ir.module.module"].search([("name", "=", "quote_process")])
expected = int(env["ir.config_parameter"].get_param("check_upgrade.orders"))
env.cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'sale_order' AND column_name = 'approval_state'")
checks = {
    "module uninstalled": module.state == "uninstalled",
    "sales orders kept (%s)" % expected: env["sale.order"].search_count([]) == expected,
    "quote kept": bool(env["sale.order"].search([("client_order_ref", "=", "UPGRADE-CHECK")])),
    "sale installed": env["ir.module.module"].search([("name", "=", "sale_management")]).state == "installed",
    "addon columns dropped": not env.cr.fetchall(),
    "lost reasons kept": bool(env["crm.lost.reason"].search_count([])),
}
for name, ok in checks.items():
    print("CHECK" if ok else "FAIL", name)
PY
)
echo "$out2"
if grep -q FAIL <<<"$out$out2" || ! grep -q CHECK <<<"$out2"; then
    echo "upgrade/uninstall check FAILED"; exit 1
fi
echo "upgrade/uninstall check passed"
