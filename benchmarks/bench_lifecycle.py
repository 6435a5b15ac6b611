#!/usr/bin/env python3
"""Benchmark: the life of a small quote, with quote_process and with Odoo alone.

What one salesperson's request costs the server, apart from the contention of
a load (``load.py``): the whole life of a --lines-line quote (default 12),
created from an opportunity, read back, one line's quantity and price
edited, marked as sent, confirmed; after each step, the work of a commit
(flushed, mail tracking), and the next step starts with an empty cache, as
the next request does. Two databases in
one process: one with quote_process (--database), one with only
sale_management and sale_crm (--odoo-database); the same products and
customers in both, the lives alternated between them, --quotes of each
(default 30, after 5 not measured). Prints the medians of the process's CPU
time (the server's Python work: PostgreSQL's is left out) and of the elapsed
time, and their ratio quote_process / Odoo alone, then the CPU time of each
step (create, edit, send, confirm: what each request costs).

Everything happens in one transaction per database, rolled back at the end.

Usage:
    python3 benchmarks/bench_lifecycle.py -d qp_bench --odoo-database odoo_bench
        [--quotes N] [--lines N] [-c odoo.conf] [--db_host H] [--db_port P]
        [--db_user U] [--db_password W]
"""

import gc
import random
import statistics
import time

from odoo_connection import add_connection_arguments, comparison_parser, setup_odoo

ADMIN_ID = 2
WARMUP = 5
# the requests of a life, in order
STEPS = ("create", "edit", "send", "confirm")


def parse_args(argv=None):
    parser = comparison_parser(__doc__)
    parser.add_argument("--quotes", type=int, default=30, help="lives measured (30)")
    parser.add_argument("--lines", type=int, default=12, help="lines per quote (12)")
    parser.add_argument("--seed", type=int, default=3, help="random seed")
    add_connection_arguments(parser)
    args = parser.parse_args(argv)
    if args.quotes < 1 or not 1 <= args.lines <= 40:
        parser.error("--quotes must be at least 1, --lines between 1 and 40")
    return args


class Side:
    """One database, its products and customers, in one transaction."""

    def __init__(self, name, database, args):
        from odoo import api  # noqa: PLC0415
        from odoo.modules.registry import Registry  # noqa: PLC0415

        self.name, self.args = name, args
        self.cr = Registry(database).cursor()
        self.env = api.Environment(self.cr, ADMIN_ID, {"lang": "en_US", "tz": "UTC"})
        self.rng = random.Random(args.seed)
        self.products = (
            self.env["product.product"]
            .create(
                [
                    {"name": f"Lifecycle product {i}", "list_price": 10.0 + i}
                    for i in range(40)
                ]
            )
            .ids
        )
        self.customers = (
            self.env["res.partner"]
            .create([{"name": f"Lifecycle customer {i}"} for i in range(20)])
            .ids
        )
        self.env.flush_all()

    def commit_work(self):
        """What the commit of a request does, without committing: flushed,
        then the precommit hooks (mail tracking)."""
        self.env.flush_all()
        self.cr.precommit.run()
        self.env.flush_all()

    def step_done(self, marks):
        """The end of a request: its commit's work, its CPU time noted, the
        cache emptied for the next one."""
        self.commit_work()
        marks.append(time.process_time())
        self.env.invalidate_all()

    def life(self):
        """One quote's life; (CPU seconds, elapsed seconds, CPU seconds of
        each step)."""
        env, rng = self.env, self.rng
        customer = rng.choice(self.customers)
        products = rng.sample(self.products, self.args.lines)
        quantities = [rng.randint(1, 9) for _product in products]
        # the garbage of the previous life (of either database) is collected
        # before, not counted in this one
        gc.collect()
        cpu, elapsed = time.process_time(), time.perf_counter()
        marks = [cpu]
        lead = env["crm.lead"].create(
            {
                "name": "Lifecycle opportunity",
                "type": "opportunity",
                "partner_id": customer,
                "user_id": ADMIN_ID,
            }
        )
        order = env["sale.order"].create(
            {
                "partner_id": customer,
                "opportunity_id": lead.id,
                "order_line": [
                    (0, 0, {"product_id": product, "product_uom_qty": quantity})
                    for product, quantity in zip(products, quantities, strict=True)
                ],
            }
        )
        self.step_done(marks)
        order.read(["name", "partner_id", "state", "amount_total", "order_line"])
        line = order.order_line[0]
        line.read(["price_unit"])
        order.write(
            {
                "order_line": [
                    (1, line.id, {"product_uom_qty": 3, "price_unit": line.price_unit})
                ]
            }
        )
        self.step_done(marks)
        order.action_quotation_sent()
        self.step_done(marks)
        order.action_confirm()
        self.step_done(marks)
        steps = [end - start for start, end in zip(marks, marks[1:], strict=False)]
        return marks[-1] - cpu, time.perf_counter() - elapsed, steps

    def close(self):
        self.cr.rollback()
        self.cr.close()


def main(argv=None):
    args = parse_args(argv)
    setup_odoo(args)
    sides = [
        Side("Odoo", args.odoo_database, args),
        Side("quote_process", args.database, args),
    ]
    times = {side.name: [] for side in sides}
    try:
        for run in range(WARMUP + args.quotes):
            for side in sides if run % 2 == 0 else sides[::-1]:
                result = side.life()
                if run >= WARMUP:
                    times[side.name].append(result)
    finally:
        for side in sides:
            side.close()
    print(
        f"The life of a {args.lines}-line quote (created from an opportunity, read, "
        f"one line edited, sent, confirmed); medians of {args.quotes} alternated"
    )
    print(f"{'':<16}{'Odoo alone':>12}{'quote_process':>15}{'ratio':>8}")
    rows = [
        (label, lambda t, index=index: t[index])
        for index, label in enumerate(("CPU", "elapsed"))
    ] + [
        (f"CPU of {label}", lambda t, index=index: t[2][index])
        for index, label in enumerate(STEPS)
    ]
    for label, value in rows:
        odoo = statistics.median(value(t) for t in times["Odoo"]) * 1000
        ours = statistics.median(value(t) for t in times["quote_process"]) * 1000
        print(f"{label:<16}{odoo:>10.1f}ms{ours:>13.1f}ms{ours / odoo:>8.2f}")


if __name__ == "__main__":
    main()
