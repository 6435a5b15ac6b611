#!/usr/bin/env python3
"""Time the Quote Analysis next to Odoo's Sales Analysis over many quotations.

Creates N quotations (with one or two lines each) in the given database, in a
transaction that is rolled back at the end: the database is left as it was.
The database must have quote_process installed, e.g. a copy of a test database:

    python3 benchmarks/bench_analysis.py --database qp_bench
    python3 benchmarks/bench_analysis.py --database qp_bench --quotes 100000

Each grouping runs as a sales manager (record rules apply), --repeat times on a
cold ORM cache; the best and the median times are printed. Odoo's sale.report
has one row per order line and no lost reason: for the "by lost reason" line it
is grouped by status over the cancelled orders, the nearest grouping it has.
"""

import argparse
import statistics
import sys
import time

from odoo_connection import add_connection_arguments, odoo_options
from seeding import columns, store_main_products

ORDER_COUNT_SQL = "SELECT count(*) FROM sale_order"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--database", "-d", required=True, help="database name")
    parser.add_argument(
        "--quotes",
        type=int,
        default=5000,
        help="number of quotations to create (default 5000; the target scale is "
        "100000)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per grouping (default 3)"
    )
    add_connection_arguments(parser)
    return parser.parse_args()


def setup_odoo(args):
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["--database", args.database, *odoo_options(args)])
    return odoo


def seed(env, quotes):
    """Create ``quotes`` quotations by cloning one seed quotation in SQL."""
    cr = env.cr
    categories = env["product.category"].create(
        [{"name": f"Bench Category {i}"} for i in range(4)]
    )
    products = env["product.product"].create(
        [
            {"name": f"Bench Product {i}", "list_price": 10.0 * (i + 1)}
            for i in range(len(categories))
        ]
    )
    for product, category in zip(products, categories, strict=True):
        product.categ_id = category
    partners = env["res.partner"].create(
        [{"name": f"Bench Customer {i}", "is_company": True} for i in range(50)]
    )
    salesman_group = env.ref("sales_team.group_sale_salesman")
    users = env["res.users"].create(
        [
            {
                "name": f"Bench Salesman {i}",
                "login": f"bench_salesman_{i}",
                "group_ids": [(6, 0, salesman_group.ids)],
            }
            for i in range(10)
        ]
    )
    reasons = env["crm.lost.reason"].search([])
    seed_order = env["sale.order"].create(
        {
            "partner_id": partners[0].id,
            "order_line": [(0, 0, {"product_id": products[0].id})],
        }
    )
    env.flush_all()

    # g: 1..N. 40 % won, 35 % lost, 15 % sent, 10 % draft.
    state_sql = """CASE WHEN g %% 20 < 8 THEN 'sale'
                        WHEN g %% 20 < 15 THEN 'cancel'
                        WHEN g %% 20 < 18 THEN 'sent' ELSE 'draft' END"""
    overrides = {
        "name": "'BENCH/' || g",
        "state": state_sql,
        "user_id": "(%(users)s::int[])[1 + g %% %(n_users)s]",
        "partner_id": "(%(partners)s::int[])[1 + g %% %(n_partners)s]",
        "partner_invoice_id": "(%(partners)s::int[])[1 + g %% %(n_partners)s]",
        "partner_shipping_id": "(%(partners)s::int[])[1 + g %% %(n_partners)s]",
        "date_order": "now() - (g %% 365) * interval '1 day'",
        "amount_untaxed": "100 + g %% 900",
        "amount_total": "100 + g %% 900",
        "amount_tax": "0",
        "lost_reason_id": f"""CASE WHEN {state_sql} = 'cancel'
            THEN (%(reasons)s::int[])[1 + (g * 7) %% %(n_reasons)s] END""",
        "lost_date": f"""CASE WHEN {state_sql} = 'cancel'
            THEN (now() - (g %% 300) * interval '1 day')::date END""",
        "access_token": "NULL",
    }
    order_columns = columns(cr, "sale_order")
    select = ", ".join(overrides.get(col, f"s.{col}") for col in order_columns)
    params = {
        "seed": seed_order.id,
        "n": quotes,
        "users": users.ids,
        "n_users": len(users),
        "partners": partners.ids,
        "n_partners": len(partners),
        "reasons": reasons.ids,
        "n_reasons": len(reasons),
    }
    cr.execute(
        f"""INSERT INTO sale_order ({", ".join(order_columns)})
            SELECT {select}
              FROM sale_order s, generate_series(1, %(n)s) g
             WHERE s.id = %(seed)s
         RETURNING id""",
        params,
    )
    order_ids = [row[0] for row in cr.fetchall()]

    # One line per quotation, a second one on every third; products rotate.
    line_overrides = {
        "order_id": "o.id",
        "product_id": "(%(products)s::int[])[1 + (o.id + k) %% %(n_products)s]",
        "salesman_id": "o.user_id",
        "order_partner_id": "o.partner_id",
        "state": "o.state",
        "price_unit": "o.amount_untaxed / (k + 1)",
        "price_subtotal": "o.amount_untaxed / (k + 1)",
        "price_total": "o.amount_untaxed / (k + 1)",
        "price_reduce_taxexcl": "o.amount_untaxed / (k + 1)",
        "price_reduce_taxinc": "o.amount_untaxed / (k + 1)",
        "untaxed_amount_to_invoice": "0",
        "untaxed_amount_invoiced": "0",
    }
    line_columns = columns(cr, "sale_order_line")
    line_select = ", ".join(line_overrides.get(c, f"l.{c}") for c in line_columns)
    cr.execute(
        f"""INSERT INTO sale_order_line ({", ".join(line_columns)})
            SELECT {line_select}
              FROM sale_order o
              JOIN sale_order_line l ON l.id = %(seed_line)s
              JOIN generate_series(0, 1) k ON k = 0 OR o.id %% 3 = 0
             WHERE o.id = ANY(%(orders)s)""",
        {
            "seed_line": seed_order.order_line.id,
            "orders": order_ids,
            "products": products.ids,
            "n_products": len(products),
        },
    )
    store_main_products(cr, order_ids)
    cr.execute("ANALYZE sale_order")
    cr.execute("ANALYZE sale_order_line")
    env.invalidate_all()
    return len(order_ids)


def timed(env, func, repeat):
    times = []
    result = None
    for _i in range(repeat):
        env.invalidate_all()
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), len(result)


def run(env, repeat):
    manager = env.ref("base.user_admin")
    uenv = env(user=manager, su=False)
    analysis = uenv["quote.analysis"]
    report = uenv["sale.report"]
    groupings = [
        (
            "by lost reason",
            lambda: analysis._read_group(
                [("outcome", "=", "lost")],
                ["lost_reason_id"],
                ["__count", "amount_untaxed:sum"],
            ),
            "by status (cancelled)",
            lambda: report._read_group(
                [("state", "=", "cancel")],
                ["state"],
                ["__count", "price_subtotal:sum"],
            ),
        ),
        (
            "by salesperson",
            lambda: analysis._read_group(
                [],
                ["user_id"],
                ["__count", "amount_untaxed:sum", "win_rate:avg"],
            ),
            "by salesperson",
            lambda: report._read_group(
                [], ["user_id"], ["__count", "price_subtotal:sum"]
            ),
        ),
        (
            "by salesperson x outcome",
            lambda: analysis._read_group(
                [], ["user_id", "outcome"], ["__count", "amount_untaxed:sum"]
            ),
            "by salesperson x status",
            lambda: report._read_group(
                [], ["user_id", "state"], ["__count", "price_subtotal:sum"]
            ),
        ),
        (
            "by main product category",
            lambda: analysis._read_group(
                [], ["categ_id"], ["__count", "amount_untaxed:sum"]
            ),
            "by product category",
            lambda: report._read_group(
                [], ["categ_id"], ["__count", "price_subtotal:sum"]
            ),
        ),
    ]
    header = (
        f"{'quote.analysis':<28}{'best s':>9}{'median s':>10}{'groups':>8}   "
        f"{'sale.report':<24}{'best s':>9}{'median s':>10}{'groups':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, func, report_label, report_func in groupings:
        best, median, groups = timed(env, func, repeat)
        r_best, r_median, r_groups = timed(env, report_func, repeat)
        print(
            f"{label:<28}{best:>9.3f}{median:>10.3f}{groups:>8}   "
            f"{report_label:<24}{r_best:>9.3f}{r_median:>10.3f}{r_groups:>8}"
        )


def main():
    args = parse_args()
    if args.database == "tmpl_sale":
        sys.exit("Refusing to run on the template database tmpl_sale.")
    odoo = setup_odoo(args)
    from odoo.modules.registry import Registry  # noqa: PLC0415

    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if "quote.analysis" not in env:
            sys.exit(f"quote_process is not installed in {args.database}.")
        try:
            start = time.perf_counter()
            created = seed(env, args.quotes)
            cr.execute(ORDER_COUNT_SQL)
            total = cr.fetchone()[0]
            rows = env["quote.analysis"].search_count([])
            print(
                f"Created {created} quotations in {time.perf_counter() - start:.1f} s "
                f"({total} orders in the database, {rows} analysis rows); "
                f"{args.repeat} runs per grouping, as a sales manager."
            )
            run(env, args.repeat)
        finally:
            cr.rollback()
            print("Rolled back: the database is unchanged.")


if __name__ == "__main__":
    main()
