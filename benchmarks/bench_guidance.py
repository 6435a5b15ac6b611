#!/usr/bin/env python3
"""Benchmark the price guidance of a large quote over a large history.

Fills the history in SQL (inside the benchmark's own transaction): HISTORY
decided quotations (40 % won, 60 % lost, decided over the last 360 days, a
third of them for customers with a tag), three lines each on 200 products in
10 categories, priced from 25 % below to 5 % above the engine price. Then, on
a quotation of LINES lines (one per product, 200 by default):

* the daily job that counts the history for the guidance (its time);
* the guidance of all its lines (sale.order.line._get_price_guidance(), from
  an empty cache): median and slowest time, and the queries it takes, which
  must not grow with the lines (the same for 1 line as for all);
* the call the guidance widget makes for all lines once the quotation is
  shown (sale.order.line.get_price_guidance_display), in the reader's words.
  Opening, changing and saving the quotation do no guidance work: the widget
  asks after the lines are shown.

Target: the guidance of all lines within 100 ms with 100,000 decided
quotations. Everything is rolled back at the end: the database is left as it
was. The database must have quote_process installed.

Examples:
    python3 benchmarks/bench_guidance.py -d qp_bench
    python3 benchmarks/bench_guidance.py -d qp_bench --history 20000 --rounds 5

Connection: as Odoo reads it (-c, ODOO_RC, the PG* variables), or the options
--db_host, --db_port, --db_user, --db_password.
"""

import argparse
import statistics
import sys
import time

from odoo_connection import add_connection_arguments, odoo_options
from seeding import columns

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

TARGET_MS = 100.0


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-d", "--database", required=True, help="database with quote_process"
    )
    parser.add_argument(
        "--history", type=int, default=100000, help="decided quotations (100000)"
    )
    parser.add_argument(
        "--lines", type=int, default=200, help="lines of the quotation (200)"
    )
    parser.add_argument("--rounds", type=int, default=7, help="runs per measure (7)")
    add_connection_arguments(parser)
    args = parser.parse_args()
    if args.history < 1 or not 1 <= args.lines <= 200:
        parser.error("--history must be at least 1 and --lines from 1 to 200")
    return args


def odoo_registry(args):
    config.parse_config(odoo_options(args))
    return Registry(args.database)


def create_catalogue(env):
    categories = env["product.category"].create(
        [{"name": f"Bench Guidance Category {index}"} for index in range(10)]
    )
    products = env["product.product"].create(
        [
            {
                "name": f"Bench Guidance Product {index}",
                "list_price": 100.0,
                "categ_id": categories[index % 10].id,
                "taxes_id": False,
            }
            for index in range(200)
        ]
    )
    tag = env["res.partner.category"].create({"name": "Bench Guidance Tag"})
    customers = env["res.partner"].create(
        [
            {
                "name": f"Bench Guidance Customer {index}",
                "is_company": True,
                "category_id": tag.ids if index % 3 == 0 else False,
            }
            for index in range(30)
        ]
    )
    return products, customers


def fill_history(env, products, customers, count):
    """``count`` decided quotations in SQL, copied from one the ORM priced."""
    cr = env.cr
    seed = env["sale.order"].create(
        {
            "partner_id": customers[0].id,
            "order_line": [(0, 0, {"product_id": products[i].id}) for i in range(3)],
        }
    )
    seed.action_confirm()
    env.flush_all()

    won = "g %% 5 < 2"
    order_overrides = {
        "name": "'BENCH/' || g",
        "partner_id": "(%(customers)s::int[])[1 + g %% %(n_customers)s]",
        "state": f"CASE WHEN {won} THEN 'sale' ELSE 'cancel' END",
        "quote_outcome": f"CASE WHEN {won} THEN 'won' ELSE 'lost' END",
        "date_order": "now() at time zone 'UTC' - (g %% 360) * interval '1 day'",
        "lost_date": f"""CASE WHEN NOT ({won})
            THEN (now() - (g %% 360) * interval '1 day')::date END""",
        "access_token": "NULL",
    }
    order_columns = columns(cr, "sale_order")
    select = ", ".join(order_overrides.get(c, f"s.{c}") for c in order_columns)
    cr.execute(
        f"""INSERT INTO sale_order ({", ".join(order_columns)})
            SELECT {select} FROM generate_series(1, %(n)s) g, sale_order s
             WHERE s.id = %(seed)s
            RETURNING id""",
        {
            "n": count,
            "seed": seed.id,
            "customers": customers.ids,
            "n_customers": len(customers),
        },
    )
    order_ids = [row[0] for row in cr.fetchall()]
    # deviation from -25 % to +5 % in steps of 1 %
    deviation = "(5 - (o.id * 7 + l.id) %% 31)"
    line_overrides = {
        "order_id": "o.id",
        "order_partner_id": "o.partner_id",
        "state": "o.state",
        "product_id": "(%(products)s::int[])[1 + (o.id * 3 + l.id) %% 200]",
        "deviation_percent": deviation,
        "price_unit": f"l.engine_price_unit * (1 + {deviation} / 100.0)",
        "technical_price_unit": f"l.engine_price_unit * (1 + {deviation} / 100.0)",
    }
    line_columns = columns(cr, "sale_order_line")
    line_select = ", ".join(line_overrides.get(c, f"l.{c}") for c in line_columns)
    cr.execute(
        f"""INSERT INTO sale_order_line ({", ".join(line_columns)})
            SELECT {line_select}
              FROM sale_order o
              JOIN sale_order_line l ON l.order_id = %(seed)s
             WHERE o.id BETWEEN %(first)s AND %(last)s""",
        {
            "seed": seed.id,
            "first": min(order_ids),
            "last": max(order_ids),
            "products": products.ids,
        },
    )
    for table in ("sale_order", "sale_order_line"):
        cr.execute(f"ANALYZE {table}")
    env.invalidate_all()
    return len(order_ids)


def timed(env, function, rounds):
    """Median and slowest time in ms, and queries of the last run."""
    times = []
    queries = 0
    for _round in range(rounds):
        env.invalidate_all()
        before = env.cr.sql_log_count
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
        queries = env.cr.sql_log_count - before
    return statistics.median(times), max(times), queries


def main():
    args = parse_args()
    registry = odoo_registry(args)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        try:
            products, customers = create_catalogue(env)
            start = time.perf_counter()
            history = fill_history(env, products, customers, args.history)
            fill_seconds = time.perf_counter() - start
            start = time.perf_counter()
            env["quote.guidance.stat"]._refresh()
            env.cr.execute("ANALYZE quote_guidance_stat")
            refresh_seconds = time.perf_counter() - start
            env.cr.execute("SELECT COUNT(*) FROM quote_guidance_stat")
            stat_rows = env.cr.fetchone()[0]
            order = env["sale.order"].create(
                {
                    "partner_id": customers[3].id,
                    "order_line": [
                        (0, 0, {"product_id": product.id})
                        for product in products[: args.lines]
                    ],
                }
            )
            env.flush_all()
            lines = order.order_line
            lines._get_price_guidance()  # the registry's caches filled once
            all_ms, all_max, all_queries = timed(
                env, lambda: order.order_line._get_price_guidance(), args.rounds
            )
            _one_ms, _one_max, one_queries = timed(
                env, lambda: order.order_line[:1]._get_price_guidance(), args.rounds
            )
            requests = [
                [line.product_id.id, order.partner_id.id, order.company_id.id]
                for line in lines
            ]
            widget_ms, widget_max, widget_queries = timed(
                env,
                lambda: env["sale.order.line"].get_price_guidance_display(requests),
                args.rounds,
            )
            guided = sum(1 for g in lines._get_price_guidance().values() if g)
        finally:
            cr.rollback()
    ok = (
        all_ms <= TARGET_MS
        and widget_ms <= TARGET_MS
        and all_queries == one_queries
        and guided == len(lines)
    )
    rows = [
        ("history", f"{history:,} decided quotations (filled in {fill_seconds:.0f} s)"),
        (
            "daily statistics",
            f"{stat_rows:,} rows counted in {refresh_seconds:.1f} s",
        ),
        ("quotation", f"{len(lines)} lines, {guided} with guidance"),
        (
            "guidance of all lines",
            f"median {all_ms:.1f} ms, slowest {all_max:.1f} ms "
            f"(target <= {TARGET_MS:.0f} ms)",
        ),
        ("queries", f"{all_queries} for all lines, {one_queries} for one line"),
        (
            "the widget's call for all lines",
            f"median {widget_ms:.1f} ms, slowest {widget_max:.1f} ms, "
            f"{widget_queries} queries",
        ),
        ("result", "OK" if ok else "TARGET MISSED"),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
