#!/usr/bin/env python3
"""Benchmark: the quote_process pricing engine against Odoo's pricelist pricing.

On a database where quote_process is installed, the script creates a quote of
--lines lines (default 1,000) and --rules active pricing rules (default 200),
with a pricelist of a few dozen items, then prices every line of the quote

* the way Odoo's pricelist does (pricelist rule, displayed price, taxes of the
  fiscal position, discount shown by the pricelist), and
* with the pricing engine (which starts from that same price and applies the
  rules),

and prints the lines per second of each and the ratio of their costs (target:
at most 1.3). Each measure starts from an empty cache and the best of --repeat
runs counts. Everything is created inside one transaction that is rolled back
at the end: the database is left as it was.

Usage:
    python3 benchmarks/bench_pricing.py DATABASE [--lines N] [--rules N]
        [--repeat N] [--seed N] [Odoo options...]

Other options are passed to Odoo (--db_host, --db_port, --db_user,
--db_password, -c odoo.conf); by default Odoo reads ODOO_RC and the PG*
variables. Without --addons-path, this repository is
added to Odoo's addons path.
"""

import argparse
import random
import sys
import time
from pathlib import Path

from odoo import api
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import config

TARGET_RATIO = 1.3


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Compare the pricing engine's speed with Odoo's pricelist "
        "pricing on a large quote (all data rolled back).",
        epilog="Other options are passed to Odoo (--db_host, --db_port, "
        "--db_user, --db_password, -c, --addons-path).",
    )
    parser.add_argument("database", help="database with quote_process installed")
    parser.add_argument(
        "--lines", type=int, default=1000, help="quote lines (default 1000)"
    )
    parser.add_argument(
        "--rules", type=int, default=200, help="active pricing rules (default 200)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measure (default 3)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    return parser.parse_known_args(argv)


def odoo_line_price(line):
    """Price a quote line exactly as Odoo's sale module does when it computes
    the unit price (_reset_price_unit) and the discount (_compute_discount)."""
    line = line.with_company(line.company_id)
    price = line._get_display_price()
    product_taxes = line.product_id.taxes_id._filter_taxes_by_company(line.company_id)
    price_unit = line.product_id._get_tax_included_unit_price_from_price(
        price,
        product_taxes=product_taxes,
        fiscal_position=line.order_id.fiscal_position_id,
    )
    discount = 0.0
    if line.pricelist_item_id._show_discount():
        pricelist_price = line._get_pricelist_price()
        base_price = line._get_pricelist_price_before_discount()
        if base_price:
            discount = (base_price - pricelist_price) / base_price * 100
    return price_unit, discount


def create_data(env, line_count, rule_count, rng):
    """A quote of ``line_count`` lines and ``rule_count`` active rules, about
    half of which can apply to it."""
    company = env.company
    env["quote.pricing.rule"].search([]).active = False

    root = env["product.category"].create({"name": "Bench"})
    categories = env["product.category"].create(
        [{"name": f"Bench {index}", "parent_id": root.id} for index in range(10)]
    )
    products = env["product.product"].create(
        [
            {
                "name": f"Bench Product {index}",
                "type": "consu",
                "list_price": rng.randint(10, 1000),
                "categ_id": rng.choice(categories).id,
            }
            for index in range(200)
        ]
    )
    pricelist = env["product.pricelist"].create(
        {
            "name": "Bench Pricelist",
            "currency_id": company.currency_id.id,
            "item_ids": [
                Command.create(
                    {
                        "applied_on": "2_product_category",
                        "categ_id": category.id,
                        "compute_price": "percentage",
                        "percent_price": rng.randint(1, 15),
                        "min_quantity": rng.choice([0, 0, 10, 50]),
                    }
                )
                for category in categories
            ]
            + [
                Command.create(
                    {
                        "applied_on": "0_product_variant",
                        "product_id": product.id,
                        "compute_price": "fixed",
                        "fixed_price": product.list_price * 0.9,
                    }
                )
                for product in products[:20]
            ]
            + [
                Command.create(
                    {
                        "applied_on": "3_global",
                        "compute_price": "formula",
                        "price_discount": 2,
                        "min_quantity": 80,
                    }
                )
            ],
        }
    )
    tags = env["res.partner.category"].create(
        [{"name": f"Bench Tag {index}"} for index in range(4)]
    )
    partner = env["res.partner"].create(
        {
            "name": "Bench Customer",
            "is_company": True,
            "category_id": [Command.set(tags[:2].ids)],
        }
    )
    other_partner = env["res.partner"].create({"name": "Bench Other Customer"})
    terms = env["account.payment.term"].create(
        [{"name": "Bench Advance"}, {"name": "Bench 60 Days"}]
    )
    team = env["crm.team"].create({"name": "Bench Team"})
    today = time.strftime("%Y-%m-%d")

    def adjustment():
        kind = rng.choice(["percent", "percent", "fixed_amount", "fixed_price"])
        if kind == "percent":
            return kind, rng.choice([-5, -3, -2, -1, 1, 2])
        if kind == "fixed_amount":
            return kind, rng.choice([-10, -5, -2, 2, 5])
        return kind, rng.randint(10, 900)

    rule_values = []
    for index in range(rule_count):
        kind, value = adjustment()
        values = {
            "name": f"Bench Rule {index}",
            "sequence": index,
            "adjustment_type": kind,
            "adjustment_value": value,
            "stop_processing": rng.random() < 0.03,
        }
        family = index % 10
        if family in (0, 1):
            values.update(rule_type="volume", min_quantity=rng.randint(5, 90))
        elif family in (2, 3):
            values.update(rule_type="base", categ_id=rng.choice(categories).id)
        elif family in (4, 5):
            values.update(rule_type="base", product_id=rng.choice(products).id)
        elif family == 6:
            values.update(
                rule_type="base",
                product_tmpl_id=rng.choice(products).product_tmpl_id.id,
            )
        elif family == 7:
            values.update(
                rule_type="customer",
                partner_id=rng.choice([partner, other_partner]).id,
                partner_category_ids=[Command.set([rng.choice(tags).id])],
            )
        elif family == 8:
            values.update(
                rule_type="payment",
                payment_term_id=rng.choice(terms).id,
                team_id=rng.choice([team.id, False]),
            )
        else:
            values.update(
                rule_type="promotion",
                categ_id=rng.choice(categories).id,
                date_start=rng.choice(["2000-01-01", "2999-01-01"]),
                date_end=rng.choice([today, "2999-12-31"]),
            )
            if values["date_end"] < values["date_start"]:
                values["date_end"] = values["date_start"]
        rule_values.append(values)
    env["quote.pricing.rule"].create(rule_values)

    order = env["sale.order"].create(
        {
            "name": "Bench Quote",
            "partner_id": partner.id,
            "pricelist_id": pricelist.id,
            "payment_term_id": terms[0].id,
            "team_id": team.id,
            "order_line": [
                Command.create(
                    {
                        "product_id": rng.choice(products).id,
                        "product_uom_qty": rng.randint(1, 100),
                    }
                )
                for _index in range(line_count)
            ],
        }
    )
    env.flush_all()
    return order


def best_time(env, function, repeat):
    """Best duration of ``function`` over ``repeat`` runs, each one starting
    from an empty cache."""
    durations = []
    for _index in range(repeat):
        env.invalidate_all()
        start = time.perf_counter()
        function()
        durations.append(time.perf_counter() - start)
    return min(durations)


def main(argv=None):
    args, odoo_args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.lines < 1 or args.rules < 0 or args.repeat < 1:
        sys.exit("--lines and --repeat must be at least 1, --rules at least 0")

    if not any(arg.startswith("--addons-path") for arg in odoo_args):
        odoo_args += ["--addons-path", str(Path(__file__).resolve().parent.parent)]
    config.parse_config(
        ["--database", args.database, "--log-level", "warn", *odoo_args],
        setup_logging=True,
    )
    registry = Registry(args.database)
    with registry.cursor() as cr:
        try:
            env = api.Environment(cr, api.SUPERUSER_ID, {"lang": "en_US", "tz": "UTC"})
            module = env["ir.module.module"].search([("name", "=", "quote_process")])
            if module.state != "installed":
                sys.exit(f"quote_process is not installed on {args.database}.")
            print(
                f"Creating a quote of {args.lines} lines and {args.rules} rules "
                "(rolled back at the end)..."
            )
            order = create_data(env, args.lines, args.rules, random.Random(args.seed))
            lines = order.order_line

            def price_with_odoo():
                for line in lines:
                    odoo_line_price(line)

            def price_with_engine():
                engine = lines._prepare_engine()
                for line in lines:
                    line._get_engine_price(engine)

            # Warm-up: code paths and database caches, not the ORM cache.
            best_time(env, price_with_odoo, 1)
            best_time(env, price_with_engine, 1)
            odoo_time = best_time(env, price_with_odoo, args.repeat)
            engine_time = best_time(env, price_with_engine, args.repeat)

            applied = sum(
                len(line.engine_steps["steps"]) - 1
                for line in lines
                if line.engine_steps
            )
            ratio = engine_time / odoo_time
            verdict = "OK" if ratio <= TARGET_RATIO else "ABOVE TARGET"
            print(f"Rules applied per line (average): {applied / len(lines):.1f}")
            print(
                f"Odoo pricelist pricing: {len(lines) / odoo_time:10.0f} lines/s "
                f"({odoo_time:.3f} s)"
            )
            print(
                f"Pricing engine:         {len(lines) / engine_time:10.0f} lines/s "
                f"({engine_time:.3f} s)"
            )
            print(
                f"Ratio engine / Odoo:    {ratio:10.2f} "
                f"(target <= {TARGET_RATIO}): {verdict}"
            )
        finally:
            cr.rollback()


if __name__ == "__main__":
    main()
