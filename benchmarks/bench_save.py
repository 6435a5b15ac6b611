#!/usr/bin/env python3
"""Benchmark: what a user waits for, with quote_process and with Odoo alone.

Two databases in one run: one with quote_process installed (--database) and one
with only sale_management and sale_crm (--odoo-database). The same products,
pricelist and quotes are created in both, and each measure runs alternately on
the one and the other, on a cold ORM cache (each save --repeat times, the
edit and the onchange three times as often); the medians are printed with the ratio quote_process / Odoo alone and its target:

* save: ``sale.order.create`` of a --lines-line quote (default 1,000), lines
  in the same call, flushed; with quote_process, with --rules active pricing
  rules (default 200) of which about 4 apply to each line, then about 70;
* edit: ``write`` of the quantity of one line of that quote, flushed; the
  lines repriced are counted (only the edited one must be);
* onchange: the web client's ``onchange()`` calls when a line is added to a
  --onchange-lines-line quote (default 200): the new line's product, then
  the quote with its new line.

Everything is created inside one transaction per database, rolled back at
the end (each measure in a savepoint rolled back too): the databases are left
as they were.

Usage:
    python3 benchmarks/bench_save.py -d qp_bench --odoo-database odoo_bench
        [--lines N] [--rules N] [--onchange-lines N] [--repeat N]
        [-c odoo.conf] [--db_host H] [--db_port P] [--db_user U]
        [--db_password W]
"""

import copy
import gc
import random
import statistics
import sys
import time
from contextlib import contextmanager
from unittest.mock import patch

from odoo_connection import add_connection_arguments, comparison_parser, setup_odoo

# (measure, target of the ratio quote_process / Odoo alone)
TARGETS = {
    "save, ~4 rules per line": 1.10,
    "save, ~70 rules per line": 1.30,
    "edit one line": 1.10,
    "onchange, line added": 1.10,
}
ADMIN_ID = 2


def parse_args(argv=None):
    parser = comparison_parser(__doc__)
    parser.add_argument("--lines", type=int, default=1000, help="quote lines (1000)")
    parser.add_argument("--rules", type=int, default=200, help="pricing rules (200)")
    parser.add_argument(
        "--onchange-lines",
        type=int,
        default=200,
        help="lines of the quote a line is added to (200)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs of each save (5); the edit and the onchange, a fraction of a "
        "second each, run three times as often",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument(
        "--measures",
        default="save4,save70,edit,onchange",
        help="comma-separated subset of save4,save70,edit,onchange (all)",
    )
    add_connection_arguments(parser)
    args = parser.parse_args(argv)
    if args.lines < 1 or args.onchange_lines < 1 or args.repeat < 1:
        parser.error("--lines, --onchange-lines and --repeat must be at least 1")
    if args.rules < 0:
        parser.error("--rules must be at least 0")
    return args


# ----------------------------------------------------------------------
# Data, the same in both databases
# ----------------------------------------------------------------------


def create_catalog(env, rng):
    """Products in categories, a pricelist with discounts shown, customers."""
    from odoo.fields import Command  # noqa: PLC0415

    # Discounts shown on the lines, as most sellers with pricelists have them.
    env.ref("base.group_user").write(
        {"implied_ids": [Command.link(env.ref("sale.group_discount_per_so_line").id)]}
    )
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
                "categ_id": categories[index % len(categories)].id,
            }
            for index in range(200)
        ]
    )
    pricelist = env["product.pricelist"].create(
        {
            "name": "Bench Pricelist",
            "currency_id": env.company.currency_id.id,
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
            ],
        }
    )
    partner = env["res.partner"].create({"name": "Bench Customer", "is_company": True})
    other = env["res.partner"].create({"name": "Bench Other", "is_company": True})
    return {
        "categories": categories,
        "products": products,
        "pricelist": pricelist,
        "partner": partner,
        "other": other,
    }


def create_rules(env, catalog, count, generic, rng):
    """``count`` inactive rules of which ``generic`` apply to every line; of
    the others, two per category apply to its lines, one per product to the
    lines of the first products, and the rest to another customer only."""
    categories = catalog["categories"]
    products = catalog["products"]
    values = []
    for index in range(count):
        kind = rng.choice(["percent", "percent", "percent", "fixed_amount"])
        value = (
            rng.choice([-3, -2, -1, 1, 2])
            if kind == "percent"
            else rng.choice([-2, -1, 1, 2])
        )
        rule = {
            "name": f"Bench Rule {generic}-{index}",
            "sequence": index,
            "active": False,
            "adjustment_type": kind,
            "adjustment_value": value,
        }
        specific = index - generic
        if index < generic:
            rule["rule_type"] = "base"
        elif specific < 2 * len(categories):
            rule.update(
                rule_type="base", categ_id=categories[specific % len(categories)].id
            )
        elif specific < 2 * len(categories) + len(products) // 2:
            rule.update(
                rule_type="base",
                product_id=products[specific - 2 * len(categories)].id,
            )
        else:
            rule.update(rule_type="customer", partner_id=catalog["other"].id)
        values.append(rule)
    return env["quote.pricing.rule"].create(values)


def quote_values(catalog, line_count, rng):
    from odoo.fields import Command  # noqa: PLC0415

    products = catalog["products"]
    return {
        "partner_id": catalog["partner"].id,
        "pricelist_id": catalog["pricelist"].id,
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


# ----------------------------------------------------------------------
# One database
# ----------------------------------------------------------------------


def with_widget_dependencies(spec):
    """The fields spec as the web client sends it: Odoo's test Form reads the
    view, not the fields that its widgets add (the engine price widget of
    quote_process reads the engine steps, whether the line is engine-priced,
    the currency and the company)."""
    spec = {name: dict(sub) for name, sub in spec.items()}
    for sub in spec.values():
        if "fields" in sub:
            sub["fields"] = with_widget_dependencies(sub["fields"])
    if "engine_price_unit" in spec:
        for name in ("engine_steps", "is_engine_priced", "currency_id", "company_id"):
            spec.setdefault(name, {"fields": {}} if name.endswith("_id") else {})
    return spec


class Side:
    """One database of the comparison, with its data, in one transaction."""

    def __init__(self, name, database, args):
        from odoo import api  # noqa: PLC0415
        from odoo.modules.registry import Registry  # noqa: PLC0415

        self.name = name
        self.args = args
        self.registry = Registry(database)
        self.cr = self.registry.cursor()
        self.env = api.Environment(self.cr, ADMIN_ID, {"lang": "en_US", "tz": "UTC"})
        self.qp = "quote.pricing.rule" in self.env
        module = self.env["ir.module.module"].search([("name", "=", "quote_process")])
        installed = module.state == "installed"
        if installed != (name == "quote_process"):
            sys.exit(
                f"{database}: quote_process must be "
                f"{'installed' if name == 'quote_process' else 'absent'}."
            )
        rng = random.Random(args.seed)
        self.catalog = create_catalog(self.env, rng)
        self.rule_sets = {}
        if self.qp:
            self.env["quote.pricing.rule"].search([]).active = False
            generic_4 = 1 if args.rules else 0
            generic_70 = min(args.rules, 67)
            self.rule_sets = {
                4: create_rules(self.env, self.catalog, args.rules, generic_4, rng),
                70: create_rules(self.env, self.catalog, args.rules, generic_70, rng),
            }
        self.activate(4)
        # The quotes that are edited and that get a line.
        self.big_quote = self.env["sale.order"].create(
            quote_values(self.catalog, args.lines, random.Random(args.seed))
        )
        self.small_quote = self.env["sale.order"].create(
            quote_values(self.catalog, args.onchange_lines, random.Random(args.seed))
        )
        self.env.flush_all()
        self.onchange_calls = self.record_onchange_calls()

    def activate(self, applying):
        """Activate the rule set of which about ``applying`` rules apply; the
        rules already as wanted are not written (a write of a rule empties the
        engine's cache of rules, which users' saves find filled)."""
        for key, rules in self.rule_sets.items():
            rules.filtered(
                lambda rule, on=key == applying: rule.active != on
            ).active = key == applying
        self.env.flush_all()

    def applied_per_line(self, order):
        if not self.qp:
            return 0.0
        lines = order.order_line
        steps = sum(
            len((line.engine_steps or {}).get("steps") or [1]) - 1 for line in lines
        )
        return steps / len(lines)

    @contextmanager
    def savepoint(self):
        """A measure's changes, rolled back after it, on a cold cache."""
        self.env.flush_all()
        savepoint = self.cr.savepoint(flush=False)
        self.env.invalidate_all()
        try:
            yield
        finally:
            savepoint.close(rollback=True)
            self.env.transaction.clear()
            self.cr.precommit.clear()
            self.cr.postcommit.clear()

    def time(self, function, prepare=None, after=None):
        """Seconds of ``function`` until the transaction would commit: flushed,
        the commit's own work done (mail tracking), on a cold cache; then
        ``after`` (untimed) is given the function's result."""
        with self.savepoint():
            argument = prepare() if prepare else None
            # The garbage of the previous measure (of either database) is
            # collected before, not counted in this one.
            gc.collect()
            start = time.perf_counter()
            result = function(argument) if prepare else function()
            self.env.flush_all()
            self.cr.precommit.run()
            self.env.flush_all()
            seconds = time.perf_counter() - start
            return seconds, after(result) if after else result

    # The measures -----------------------------------------------------

    def save(self, applying):
        self.activate(applying)
        rng = random.Random(self.args.seed)
        vals = quote_values(self.catalog, self.args.lines, rng)

        def run():
            return self.env["sale.order"].create(vals)

        return self.time(run, after=self.applied_per_line)

    def edit(self):
        self.activate(4)
        line = self.big_quote.order_line[len(self.big_quote.order_line) // 2]
        line_id = line.id
        quantity = line.product_uom_qty + 7

        def run():
            self.env["sale.order.line"].browse(line_id).write(
                {"product_uom_qty": quantity}
            )
            self.env.flush_all()

        return self.time(run)

    def count_repriced_on_edit(self):
        """Lines whose price is computed again when one line is edited."""
        line_model = type(self.env["sale.order.line"])
        repriced = set()
        original = line_model._reset_price_unit

        def reset_price_unit(line):
            repriced.add(line.id)
            return original(line)

        patches = [patch.object(line_model, "_reset_price_unit", reset_price_unit)]
        if self.qp:
            original_engine = line_model._get_engine_price

            def get_engine_price(line, engine):
                repriced.add(line.id)
                return original_engine(line, engine)

            patches.append(
                patch.object(line_model, "_get_engine_price", get_engine_price)
            )
        for applied in patches:
            applied.start()
        try:
            self.edit()
        finally:
            for applied in patches:
                applied.stop()
        return len(repriced)

    def record_onchange_calls(self):
        """The ``onchange()`` calls the web client makes when a line is added
        to the small quote (as Odoo's test Form makes them), to replay."""
        from odoo.tests import Form  # noqa: PLC0415

        calls = []
        product = self.catalog["products"][7]
        with self.savepoint():
            form = Form(self.small_quote)
            line_model = type(self.env["sale.order.line"])
            order_model = type(self.env["sale.order"])

            def recorder(model):
                original = model.onchange

                def onchange(records, values, field_names, fields_spec):
                    # replayed with the fields the web client asks for
                    calls.append(
                        (
                            records._name,
                            records.ids,
                            values,
                            field_names,
                            with_widget_dependencies(fields_spec),
                        )
                    )
                    return original(records, values, field_names, fields_spec)

                return patch.object(model, "onchange", onchange)

            with recorder(line_model), recorder(order_model):
                with form.order_line.new() as line:
                    line.product_id = product
                    line.product_uom_qty = 12
        return calls

    def onchange(self):
        def run(calls):
            for model, ids, values, field_names, fields_spec in calls:
                self.env[model].browse(ids).onchange(values, field_names, fields_spec)

        return self.time(run, lambda: copy.deepcopy(self.onchange_calls))

    def close(self):
        self.cr.rollback()
        self.cr.close()


# ----------------------------------------------------------------------
# The comparison
# ----------------------------------------------------------------------


def median(values):
    return statistics.median(values)


def main(argv=None):
    args = parse_args(argv)
    setup_odoo(args)
    print(
        f"Setting up {args.odoo_database} (Odoo alone) and {args.database} "
        "(quote_process): rolled back at the end..."
    )
    odoo_side = Side("Odoo", args.odoo_database, args)
    qp_side = Side("quote_process", args.database, args)
    try:
        measures = {
            name: measure
            for key, name, measure in (
                ("save4", "save, ~4 rules per line", lambda side: side.save(4)),
                ("save70", "save, ~70 rules per line", lambda side: side.save(70)),
                ("edit", "edit one line", lambda side: side.edit()),
                ("onchange", "onchange, line added", lambda side: side.onchange()),
            )
            if key in args.measures.split(",")
        }
        times = {name: {"Odoo": [], "quote_process": []} for name in measures}
        applied = {}
        saves = {n: m for n, m in measures.items() if n.startswith("save")}
        others = {n: m for n, m in measures.items() if n not in saves}
        # The saves first, then the edit and the onchange with one rule set
        # (switching sets empties the engine's cache of rules), each group
        # after an untimed run: code paths and the caches warm.
        for group, runs in ((saves, args.repeat), (others, args.repeat * 3)):
            for side in (odoo_side, qp_side):
                for measure in group.values():
                    measure(side)
            for run in range(runs):
                # Alternated, each side first in turn.
                sides = (odoo_side, qp_side) if run % 2 == 0 else (qp_side, odoo_side)
                for name, measure in group.items():
                    for side in sides:
                        seconds, result = measure(side)
                        times[name][side.name].append(seconds)
                        if side is qp_side and name in saves:
                            applied[name] = result
        repriced = {}
        if "edit one line" in measures:
            repriced = {
                side.name: side.count_repriced_on_edit()
                for side in (odoo_side, qp_side)
            }
    finally:
        odoo_side.close()
        qp_side.close()

    print(
        f"\n{args.lines}-line quote, {args.rules} rules; line added to a "
        f"{args.onchange_lines}-line quote; medians of {args.repeat} alternated runs "
        f"of each save, {args.repeat * 3} of the edit and the onchange"
    )
    header = f"{'measure':<28}{'Odoo alone':>12}{'quote_process':>15}{'ratio':>8}"
    print(f"{header}{'target':>9}  verdict")
    print("-" * (len(header) + 18))
    for name in measures:
        odoo_time = median(times[name]["Odoo"])
        qp_time = median(times[name]["quote_process"])
        ratio = qp_time / odoo_time
        target = TARGETS[name]
        verdict = "OK" if ratio <= target else "ABOVE TARGET"
        print(
            f"{name:<28}{odoo_time:>11.3f}s{qp_time:>14.3f}s{ratio:>8.2f}"
            f"{'<= ' + format(target, '.2f'):>9}  {verdict}"
        )
    for name, value in applied.items():
        print(f"Rules applied per line ({name}): {value:.1f}")
    for name in measures:
        if name.startswith("save"):
            seconds = median(times[name]["Odoo"])
            print(f"Odoo alone saves {args.lines / seconds:.0f} lines/s")
            break
    if repriced:
        print(
            "Lines repriced when one line is edited: "
            f"Odoo alone {repriced['Odoo']}, "
            f"quote_process {repriced['quote_process']}"
        )


if __name__ == "__main__":
    main()
