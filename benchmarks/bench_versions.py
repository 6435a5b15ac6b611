#!/usr/bin/env python3
"""Benchmark the cost of recording a quotation version when a quote is sent.

Creates a quotation of LINES lines (a section every 50 lines), then marks it as
sent (sale.order.action_quotation_sent) ROUNDS times with the version hook of
quote_process and ROUNDS times without it (the hook replaced by a no-op for
the run), alternately, each sending in a savepoint rolled back. Prints the
median time of each, the overhead of the version in percent and whether it
stays within the budget (10% by default). Both runs send as the web client
does (the change of state tracked on the chatter) and include the flush of the
sending, so the database work counts; everything else of the addon (approval
check, follow-up) runs in both. The machine's load makes single runs noisy:
the overhead is given on the medians and on the fastest runs.

Everything happens inside one transaction that is rolled back at the end: the
database is left as it was. The database must have quote_process installed.

Examples:
    python3 benchmarks/bench_versions.py -d qp_bench
    python3 benchmarks/bench_versions.py -d qp_bench --lines 1000 --rounds 9
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest.mock import patch

from odoo_connection import add_connection_arguments, odoo_options

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

REPO = Path(__file__).resolve().parent.parent


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-d", "--database", required=True, help="database with quote_process"
    )
    parser.add_argument(
        "--lines", type=int, default=1000, help="lines of the quotation (1000)"
    )
    parser.add_argument(
        "--rounds", type=int, default=9, help="sendings with and without (9)"
    )
    parser.add_argument(
        "--budget", type=float, default=10.0, help="allowed overhead in %% (10)"
    )
    add_connection_arguments(parser)
    return parser.parse_args()


def odoo_registry(args):
    config.parse_config(odoo_options(args))
    return Registry(args.database)


def create_quote(env, lines):
    """A quotation of ``lines`` lines on twenty products, with sections."""
    products = env["product.product"].create(
        [
            {"name": f"Bench Version Product {index}", "list_price": 10 + index}
            for index in range(20)
        ]
    )
    partner = env["res.partner"].create({"name": "Bench Version Customer"})
    order_lines = []
    for index in range(lines):
        if index % 50 == 0:
            order_lines.append(
                (0, 0, {"display_type": "line_section", "name": f"Part {index}"})
            )
        else:
            order_lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": products[index % 20].id,
                        "product_uom_qty": 1 + index % 7,
                    },
                )
            )
    order = env["sale.order"].create(
        {"partner_id": partner.id, "order_line": order_lines}
    )
    env.flush_all()
    return order


def send_once(env, order):
    """Mark the quotation as sent and flush; the time it took, rolled back."""
    cr = env.cr
    savepoint = cr.savepoint()
    try:
        env.invalidate_all()
        start = time.perf_counter()
        # as from the web client: the change of state is tracked on the chatter
        order.with_context(tracking_disable=False).action_quotation_sent()
        env.flush_all()
        seconds = time.perf_counter() - start
        versions = len(order.version_ids)
    finally:
        savepoint.close(rollback=True)
        env.invalidate_all()
    return seconds, versions


def main():
    args = parse_args()
    registry = odoo_registry(args)
    cr = registry.cursor()
    overhead = 0.0
    try:
        env = api.Environment(
            cr, SUPERUSER_ID, {"tracking_disable": True, "no_reset_password": True}
        )
        if "quote.version" not in env:
            sys.exit(f"quote_process is not installed on database {args.database}")
        start = time.perf_counter()
        order = create_quote(env, args.lines)
        print(
            f"quotation of {len(order.order_line)} lines: created in "
            f"{time.perf_counter() - start:.1f}s"
        )
        SaleOrder = type(env["sale.order"])

        def no_version(self, *args, **kwargs):
            return self.env["quote.version"]

        without_hook = patch.object(SaleOrder, "_quote_version_record", no_version)
        # warm both paths up (caches, prepared statements)
        send_once(env, order)
        with without_hook:
            send_once(env, order)
        timings = {"with": [], "without": []}
        for _round in range(args.rounds):
            seconds, versions = send_once(env, order)
            if versions != 1:
                sys.exit("the sending recorded no version: the hook did not run")
            timings["with"].append(seconds)
            with without_hook:
                seconds, versions = send_once(env, order)
            if versions:
                sys.exit("the sending without the hook recorded a version")
            timings["without"].append(seconds)
        with_median = statistics.median(timings["with"])
        without_median = statistics.median(timings["without"])
        overhead = (with_median - without_median) / without_median * 100
        fastest = (min(timings["with"]) - min(timings["without"])) / min(
            timings["without"]
        )
        print(f"{'mark as sent':>22} {'median s':>9} {'min s':>7} {'max s':>7}")
        for label, key in (
            ("without the version", "without"),
            ("with the version", "with"),
        ):
            print(
                f"{label:>22} {statistics.median(timings[key]):>9.3f} "
                f"{min(timings[key]):>7.3f} {max(timings[key]):>7.3f}"
            )
        verdict = "within" if overhead <= args.budget else "OVER"
        print(
            f"recording the version adds {overhead:.1f}% to the sending on the "
            f"medians, {fastest * 100:.1f}% on the fastest runs ({verdict} the "
            f"{args.budget:g}% budget, judged on the medians)"
        )
    finally:
        cr.rollback()
        cr.close()
    print("rolled back: the database is unchanged")
    if overhead > args.budget:
        sys.exit(1)


if __name__ == "__main__":
    main()
