#!/usr/bin/env python3
"""Populate a database with quote_process data at scale, then run the benchmarks.

Creates (and COMMITS) --quotes quotations with --lines lines each, --rules
pricing rules, promises (when the quote.promise model is installed) and history:
sent dates, customer responses, reminders, approvals, lost reasons and one
chatter message per sent quotation. The quotations are copied in SQL from seed
quotations the ORM priced, so every engine and deviation column is realistic.
Then it runs benchmarks/bench_pricing.py, bench_followup.py and
bench_analysis.py on that database (they roll their own data back) and prints
one summary table.

Use a throwaway copy of a database with quote_process installed:

    createdb -T qp_dev qp_scale
    python3 benchmarks/populate.py -d qp_scale                    # 2,000 quotes
    python3 benchmarks/populate.py -d qp_scale --quotes 100000    # issue's scale
    python3 benchmarks/populate.py -d qp_scale --no-populate      # benchmarks only
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from odoo_connection import (
    add_connection_arguments,
    connection_cli,
    odoo_options,
)
from seeding import columns, store_main_products

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-d", "--database", required=True, help="database name")
    parser.add_argument("--quotes", type=int, default=2000, help="quotations (2000)")
    parser.add_argument("--lines", type=int, default=3, help="lines per quote (3)")
    parser.add_argument("--rules", type=int, default=200, help="pricing rules (200)")
    parser.add_argument(
        "--promises", type=int, default=500, help="promises, if the model exists"
    )
    parser.add_argument(
        "--no-populate", action="store_true", help="only run the benchmarks"
    )
    parser.add_argument(
        "--no-bench", action="store_true", help="only populate the database"
    )
    parser.add_argument(
        "--odoo-database",
        help="a database with sale_management and sale_crm, without "
        "quote_process: bench_save.py compares the save, the edit of a line and "
        "the onchange of a new line with it (skipped without)",
    )
    add_connection_arguments(parser)
    args = parser.parse_args()
    if args.database == "tmpl_sale":
        parser.error("refusing to write into the template database tmpl_sale")
    if args.quotes < 1 or args.lines < 1:
        parser.error("--quotes and --lines must be at least 1")
    return args


def create_master_data(env, args):
    """Users, customers, products, rules and seed quotations, with the ORM."""
    import random  # noqa: PLC0415

    rnd = random.Random(42)
    groups = [
        env.ref("sales_team.group_sale_salesman"),
        env.ref("sales_team.group_sale_salesman_all_leads"),
    ]
    users = env["res.users"].create(
        [
            {
                "name": f"Populate Salesperson {i}",
                "login": f"populate_salesperson_{i}",
                "email": f"populate.{i}@example.com",
                "group_ids": [(6, 0, groups[i % 2].ids)],
            }
            for i in range(20)
        ]
    )
    manager = env["res.users"].create(
        {
            "name": "Populate Manager",
            "login": "populate_manager",
            "email": "populate.manager@example.com",
            "group_ids": [(6, 0, env.ref("sales_team.group_sale_manager").ids)],
        }
    )
    team = env["crm.team"].create({"name": "Populate Team", "user_id": manager.id})
    categories = env["product.category"].create(
        [{"name": f"Populate Category {i}"} for i in range(10)]
    )
    products = env["product.product"].create(
        [
            {
                "name": f"Populate Product {i}",
                "list_price": 10.0 + i,
                "categ_id": categories[i % len(categories)].id,
            }
            for i in range(100)
        ]
    )
    tags = env["res.partner.category"].create(
        [{"name": f"Populate Tag {i}"} for i in range(5)]
    )
    customers = env["res.partner"].create(
        [
            {
                "name": f"Populate Customer {i}",
                "is_company": True,
                "category_id": [(6, 0, [tags[i % len(tags)].id])],
            }
            for i in range(1000)
        ]
    )
    rule_vals = []
    for i in range(args.rules):
        vals = {
            "name": f"Populate Rule {i}",
            "sequence": i,
            "rule_type": rnd.choice(["base", "volume", "customer", "promotion"]),
            "adjustment_type": "percent",
            "adjustment_value": -rnd.choice([1, 2, 3, 5]),
        }
        # most rules are about a product, some about a category, a customer
        # tag or a quantity
        condition = i % 8
        if condition < 5:
            vals["product_id"] = rnd.choice(products).id
        elif condition == 5:
            vals["categ_id"] = rnd.choice(categories).id
        elif condition == 6:
            vals["partner_category_ids"] = [(6, 0, [rnd.choice(tags).id])]
        else:
            vals["min_quantity"] = rnd.choice([5, 10, 50])
        rule_vals.append(vals)
    env["quote.pricing.rule"].create(rule_vals)
    promises = 0
    if "quote.promise" in env and args.promises:
        promises = create_promises(env, customers, products, args.promises)
    reason = env.ref("quote_process.deviation_reason_competitor")
    # seed quotes: one at the engine price, one 3% below (with a reason)
    seeds = env["sale.order"]
    for deviation in (0.0, 3.0):
        lines = []
        for k in range(args.lines):
            product = products[k % len(products)]
            line = {"product_id": product.id, "product_uom_qty": 1 + k * 5}
            if deviation:
                line.update(
                    {
                        "discount": deviation,
                        "deviation_reason_id": reason.id,
                        "deviation_note": "Matched a competitor's offer",
                    }
                )
            lines.append((0, 0, line))
        seeds |= env["sale.order"].create(
            {
                "partner_id": customers[0].id,
                "user_id": users[0].id,
                "team_id": team.id,
                "order_line": lines,
            }
        )
    env.flush_all()
    return {
        "users": users,
        "team": team,
        "products": products,
        "customers": customers,
        "seeds": seeds,
        "promises": promises,
    }


def create_promises(env, customers, products, count):
    """Promises through the public contract's fields; skipped if refused."""
    Promise = env["quote.promise"]
    vals_list = [
        {
            "name": f"Populate Promise {i}",
            "partner_id": customers[i % len(customers)].id,
            "promise_type": "percent",
            "discount_percent": 1 + i % 5,
            "product_id": products[i % len(products)].id,
        }
        for i in range(count)
    ]
    try:
        with env.cr.savepoint():
            return len(Promise.create(vals_list))
    except Exception as error:
        print(f"promises skipped: {error}")
        return 0


def clone_quotes(env, data, quotes):
    """Copy the seed quotations ``quotes`` times in SQL, with varied history."""
    cr = env.cr
    users = data["users"].ids
    customers = data["customers"].ids
    products = data["products"].ids
    reasons = env["crm.lost.reason"].search([]).ids
    approver = env.ref("base.user_admin").id
    # g: 1..N. 35 % won, 25 % lost, 30 % sent, 10 % draft; every 2nd below engine.
    state = """CASE WHEN g %% 20 < 7 THEN 'sale' WHEN g %% 20 < 12 THEN 'cancel'
                    WHEN g %% 20 < 18 THEN 'sent' ELSE 'draft' END"""
    overrides = {
        "name": "'POP/' || g",
        "state": state,
        "user_id": "(%(users)s::int[])[1 + g %% %(n_users)s]",
        "partner_id": "(%(customers)s::int[])[1 + g %% %(n_customers)s]",
        "partner_invoice_id": "(%(customers)s::int[])[1 + g %% %(n_customers)s]",
        "partner_shipping_id": "(%(customers)s::int[])[1 + g %% %(n_customers)s]",
        "date_order": "now() at time zone 'UTC' - (g %% 400) * interval '1 day'",
        "access_token": "NULL",
        "origin": "'populate'",
        "quote_sent_date": f"""CASE WHEN {state} != 'draft' THEN
            now() at time zone 'UTC' - (g %% 400) * interval '1 day' END""",
        "last_followup_date": f"""CASE WHEN {state} != 'draft' THEN
            now() at time zone 'UTC' - (g %% 12) * interval '1 day' END""",
        "response_deadline": f"""CASE WHEN {state} != 'draft' THEN
            (now() - (g %% 400 - 10) * interval '1 day')::date END""",
        "customer_response": f"""CASE {state} WHEN 'sale' THEN 'accepted'
            WHEN 'cancel' THEN 'declined' WHEN 'sent' THEN
            (CASE WHEN g %% 3 = 0 THEN 'negotiating' ELSE 'pending' END) END""",
        "customer_response_date": f"""CASE WHEN {state} IN ('sale', 'cancel') THEN
            now() at time zone 'UTC' - (g %% 400 - g %% 9) * interval '1 day' END""",
        "reminder_count": f"CASE WHEN {state} != 'draft' THEN g %% 3 ELSE 0 END",
        "last_reminder_date": f"""CASE WHEN {state} != 'draft' AND g %% 3 > 0 THEN
            now() at time zone 'UTC' - (g %% 40 + 1) * interval '1 day' END""",
        "quote_preexisting": "FALSE",
        "lost_reason_id": f"""CASE WHEN {state} = 'cancel'
            THEN (%(reasons)s::int[])[1 + (g * 7) %% %(n_reasons)s] END""",
        "lost_date": f"""CASE WHEN {state} = 'cancel'
            THEN (now() - (g %% 300) * interval '1 day')::date END""",
    }
    order_columns = columns(cr, "sale_order")
    approved = {
        "approved_by_id": f"CASE WHEN g %% 2 = 1 THEN {approver} END",
        "approved_date": "CASE WHEN g %% 2 = 1 THEN s.create_date END",
        "approved_deviation_percent": "CASE WHEN g %% 2 = 1 THEN 3 ELSE 0 END",
    }
    overrides.update({k: v for k, v in approved.items() if k in order_columns})
    select = ", ".join(overrides.get(col, f"s.{col}") for col in order_columns)
    seed_engine, seed_below = data["seeds"].ids
    cr.execute(
        f"""INSERT INTO sale_order ({", ".join(order_columns)})
            SELECT {select}
              FROM generate_series(1, %(n)s) g
              JOIN sale_order s ON s.id = CASE WHEN g %% 2 = 1 THEN %(below)s
                                               ELSE %(engine)s END
         RETURNING id""",
        {
            "n": quotes,
            "engine": seed_engine,
            "below": seed_below,
            "users": users,
            "n_users": len(users),
            "customers": customers,
            "n_customers": len(customers),
            "reasons": reasons,
            "n_reasons": len(reasons),
        },
    )
    order_ids = [row[0] for row in cr.fetchall()]
    cr.execute("ANALYZE sale_order")  # or the planner joins as if it were small
    line_overrides = {
        "order_id": "o.id",
        "product_id": "(%(products)s::int[])[1 + (o.id + l.id) %% %(n_products)s]",
        "salesman_id": "o.user_id",
        "order_partner_id": "o.partner_id",
        "state": "o.state",
    }
    line_columns = columns(cr, "sale_order_line")
    line_select = ", ".join(line_overrides.get(c, f"l.{c}") for c in line_columns)
    cr.execute(
        f"""INSERT INTO sale_order_line ({", ".join(line_columns)})
            SELECT {line_select}
              FROM sale_order o
              JOIN sale_order s ON s.id = CASE WHEN o.id %% 2 = 0 THEN %(below)s
                                               ELSE %(engine)s END
              JOIN sale_order_line l ON l.order_id = s.id
             WHERE o.id BETWEEN %(first)s AND %(last)s""",
        {
            "first": min(order_ids),
            "last": max(order_ids),
            "engine": seed_engine,
            "below": seed_below,
            "products": products,
            "n_products": len(products),
        },
    )
    store_main_products(cr, order_ids)
    # history: one chatter message per quotation that was sent
    cr.execute(
        """INSERT INTO mail_message (model, res_id, message_type, body, author_id,
                                     date, create_date, write_date, create_uid,
                                     write_uid)
           SELECT 'sale.order', o.id, 'comment',
                  '<p>Called the customer about the quotation.</p>',
                  u.partner_id, o.quote_sent_date, o.quote_sent_date,
                  o.quote_sent_date, o.user_id, o.user_id
             FROM sale_order o JOIN res_users u ON u.id = o.user_id
            WHERE o.id BETWEEN %s AND %s AND o.quote_sent_date IS NOT NULL""",
        [min(order_ids), max(order_ids)],
    )
    messages = cr.rowcount
    cr.execute(
        """INSERT INTO mail_followers (res_model, res_id, partner_id)
           SELECT 'sale.order', o.id, u.partner_id
             FROM sale_order o JOIN res_users u ON u.id = o.user_id
            WHERE o.id BETWEEN %s AND %s
           ON CONFLICT DO NOTHING""",
        [min(order_ids), max(order_ids)],
    )
    for table in ("sale_order", "sale_order_line", "mail_message"):
        cr.execute(f"ANALYZE {table}")
    env.invalidate_all()
    return len(order_ids), messages


def populate(args):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(odoo_options(args))
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(
            cr, SUPERUSER_ID, {"tracking_disable": True, "no_reset_password": True}
        )
        if "quote.pricing.rule" not in env:
            sys.exit(f"quote_process is not installed in {args.database}.")
        start = time.perf_counter()
        data = create_master_data(env, args)
        orders, messages = clone_quotes(env, data, args.quotes)
        cr.commit()
        cr.execute("SELECT count(*) FROM sale_order_line")
        lines = cr.fetchone()[0]
        seconds = time.perf_counter() - start
    print(
        f"Populated {orders} quotations ({lines} lines in the database), "
        f"{args.rules} rules, {data['promises']} promises, {messages} messages "
        f"in {seconds:.0f} s"
    )
    return seconds


def run_bench(name, cli):
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(HERE / name), *cli],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    print(f"--- {name} ({seconds:.0f} s)\n{result.stdout.strip()}", flush=True)
    if result.returncode:
        print(result.stderr[-2000:], flush=True)
    return result.stdout


def bench_save_rows(args, connection):
    """The save, edit and onchange against Odoo alone (bench_save.py)."""
    if not args.odoo_database:
        return [("save", "against Odoo alone", "skipped: no --odoo-database", "")]
    out = run_bench(
        "bench_save.py",
        ["-d", args.database, "--odoo-database", args.odoo_database, *connection],
    )
    rows = []
    for line in out.splitlines():
        match = re.match(
            r"((?:save|edit|onchange).*?)\s+([\d.]+)s\s+([\d.]+)s\s+"
            r"([\d.]+)\s+(<= [\d.]+)\s+(.+)$",
            line,
        )
        if match:
            name, odoo_time, qp_time, ratio, target, verdict = match.groups()
            rows.append(
                (
                    name.split(",")[0].split(" ")[0],
                    f"{name.strip()}: x Odoo alone",
                    f"{ratio} ({qp_time} s / {odoo_time} s)",
                    f"{target} {verdict}",
                )
            )
    match = re.search(r"Lines repriced when one line is edited: (.*)", out)
    rows.append(("edit", "lines repriced", match.group(1) if match else "?", "1"))
    return rows or [("save", "result", "?", "")]


def bench_pricing_rows(args, connection):
    out = run_bench("bench_pricing.py", [args.database, *connection])
    rows = []
    for label in ("Odoo pricelist pricing", "Pricing engine", "Ratio engine / Odoo"):
        match = re.search(rf"{re.escape(label)}:\s+(.*)", out)
        value = match.group(1).strip() if match else "?"
        target = ""
        if label.startswith("Ratio"):
            value, _sep, target = value.partition(" (target ")
            target = target.replace("):", "").strip()
        rows.append(("pricing", label, value, target))
    return rows


def bench_followup_rows(args, connection):
    out = run_bench(
        "bench_followup.py",
        [
            "-d",
            args.database,
            *connection,
            "--batch-sizes",
            "100,500,1000",
            "--quotes",
            "10000",
            "--overdue",
            "2000",
        ],
    )
    rows = []
    for match in re.finditer(
        r"^\s*(\d+)\s+(\d+)\s+([\d.]+)\s+(\d+)\s+(\S+)\s+([\d.]+)", out, re.M
    ):
        batch, per_second, per_reminder = match.group(1, 4, 6)
        per_second, per_reminder = int(per_second), float(per_reminder)
        rows += [
            (
                "follow-up",
                f"reminders per second (batches of {batch})",
                str(per_second),
                f">= 200 {'OK' if per_second >= 200 else 'BELOW TARGET'}",
            ),
            (
                "follow-up",
                f"queries per reminder (batches of {batch})",
                f"{per_reminder:.3f}",
                f"<= 0.3 {'OK' if per_reminder <= 0.3 else 'ABOVE TARGET'}",
            ),
        ]
    return rows or [("follow-up", "result", "?", "")]


def bench_analysis_rows(args, connection):
    out = run_bench(
        "bench_analysis.py", ["-d", args.database, *connection, "--quotes", "0"]
    )
    rows = []
    pattern = (
        r"(by [^\d]+?)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(.+?)"
        r"\s+([\d.]+)\s+[\d.]+\s+\d+$"
    )
    for line in out.splitlines():
        match = re.match(pattern, line)
        if match:
            ours, theirs = float(match.group(2)), float(match.group(6))
            ratio = ours / theirs if theirs else 0.0
            rows.append(
                (
                    "analysis",
                    match.group(1).strip(),
                    f"{match.group(2)} s (sale.report {match.group(6)} s): "
                    f"x {ratio:.2f}",
                    f"<= 0.30 {'OK' if ratio <= 0.3 else 'ABOVE TARGET'}",
                )
            )
    return rows or [("analysis", "result", "?", "")]


def main():
    args = parse_args()
    connection = connection_cli(args)
    summary = []
    if not args.no_populate:
        seconds = populate(args)
        summary.append(
            (
                "populate",
                f"{args.quotes} quotes x {args.lines} lines",
                f"{seconds:.0f} s",
                "",
            )
        )
    if args.no_bench:
        return
    summary += bench_save_rows(args, connection)
    summary += bench_pricing_rows(args, connection)
    summary += bench_followup_rows(args, connection)
    summary += bench_analysis_rows(args, connection)
    width = max(len(row[1]) for row in summary) + 2
    value_width = max(len(row[2]) for row in summary) + 2
    print(f"\n{'area':<11}{'measure':<{width}}{'value':<{value_width}}target")
    print("-" * (width + value_width + 30))
    for area, label, value, target in summary:
        print(f"{area:<11}{label:<{width}}{value:<{value_width}}{target}")


if __name__ == "__main__":
    main()
