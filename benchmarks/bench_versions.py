#!/usr/bin/env python3
"""Benchmark the cost of recording a quotation version when a quote is sent.

Creates a quotation of LINES lines (a section every 50 lines), then marks it as
sent ROUNDS times with the version hook of quote_process and ROUNDS times
without it (the hook replaced by a no-op for the run), alternately, each
sending in a savepoint rolled back. Each sending is the click on "Mark
Quotation as Sent" as the user waits for it: Odoo's server action (which calls
sale.order.action_quotation_sent, the change of state tracked on the
chatter), what the commit of the request does before it reaches PostgreSQL
(the flush and the precommit hooks, where Odoo posts the tracking message),
then the web client's reading of the form again (``web_read`` with the form
view's fields, the engine price widget's and the first page of lines, as many
as the lines' list shows). The action alone (without the reading) is timed
too. Everything else of the addon (approval check, follow-up) runs in both.
Prints the median time of each, the overhead of the version in percent and
whether it stays within the budget (10% by default, judged on the medians of
the click). The machine's load makes single runs noisy: the overhead is given
on the medians and on the fastest runs, and the time spent recording the
version inside the sendings (the hook itself) is printed as well.

With --resend, the quotation was sent once already (version 1, kept for the
run) and one line's price changed since: each timed sending records version 2,
compared with version 1 for its chatter line.

Everything happens inside one transaction that is rolled back at the end: the
database is left as it was. The database must have quote_process installed.

Examples:
    python3 benchmarks/bench_versions.py -d qp_bench
    python3 benchmarks/bench_versions.py -d qp_bench --lines 1000 --rounds 9
    python3 benchmarks/bench_versions.py -d qp_bench --resend
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest.mock import patch

from bench_save import with_widget_dependencies
from lxml import etree
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
    parser.add_argument(
        "--resend",
        action="store_true",
        help="time the second version (a price changed since the first)",
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


def prepare_resend(env, order):
    """Send the quotation once (version 1), then change one line's price
    and set it back to draft: the next sending makes version 2."""
    order.action_quotation_sent()
    order.action_draft()
    line = order.order_line.filtered(lambda line: not line.display_type)[:1]
    line.price_unit += 1
    env.flush_all()


def reload_spec(env, order):
    """The fields the web client reads when it shows the quotation again
    after the action: those of the form view, of the engine price widget, and
    a page of each list of lines (its ``limit``, 40 when it has none)."""
    from odoo.tests import Form  # noqa: PLC0415

    spec = with_widget_dependencies(Form(order)._view["fields_spec"])
    arch = etree.fromstring(env["sale.order"].get_view(view_type="form")["arch"])
    for name, sub in spec.items():
        if "fields" in sub and order._fields[name].type in ("one2many", "many2many"):
            lists = arch.xpath(f"//field[@name='{name}']/list")
            sub["limit"] = int((lists[0].get("limit") if lists else None) or 40)
    return spec


def send_once(env, order, action, spec):
    """Click "Mark Quotation as Sent": run the server action, flush and run
    the precommit hooks as the commit of the request does, read the form
    again as the web client does; the time of the action and of the whole
    click, rolled back."""
    cr = env.cr
    savepoint = cr.savepoint()
    try:
        env.invalidate_all()
        start = time.perf_counter()
        # as from the web client: the change of state is tracked on the chatter
        action.with_context(
            tracking_disable=False,
            active_model="sale.order",
            active_id=order.id,
            active_ids=order.ids,
        ).run()
        cr.flush()
        acted = time.perf_counter() - start
        order.web_read(spec)
        clicked = time.perf_counter() - start
        versions = len(order.version_ids)
    finally:
        savepoint.close(rollback=True)
        env.invalidate_all()
    return acted, clicked, versions


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
        expected = 1
        if args.resend:
            prepare_resend(env, order)
            expected = 2
        SaleOrder = type(env["sale.order"])

        def no_version(self, *args, **kwargs):
            return self.env["quote.version"]

        without_hook = patch.object(SaleOrder, "_quote_version_record", no_version)
        record = SaleOrder._quote_version_record
        recording = []

        def timed_record(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return record(self, *args, **kwargs)
            finally:
                if self:
                    recording.append(time.perf_counter() - start)

        timed_hook = patch.object(SaleOrder, "_quote_version_record", timed_record)
        action = env.ref("sale.model_sale_order_action_quotation_sent")
        spec = reload_spec(env, order)
        # warm both paths up (caches, prepared statements)
        send_once(env, order, action, spec)
        with without_hook:
            send_once(env, order, action, spec)
        timings = {
            key: [] for key in ("with", "without", "with_action", "without_action")
        }
        for _round in range(args.rounds):
            for key, hook, count in (
                ("with", timed_hook, expected),
                ("without", without_hook, expected - 1),
            ):
                with hook:
                    acted, clicked, versions = send_once(env, order, action, spec)
                if versions != count:
                    sys.exit(f"the sending {key} the hook made {versions} versions")
                timings[key].append(clicked)
                timings[f"{key}_action"].append(acted)

        def added(key, pick):
            with_, without = (
                pick(timings[key]),
                pick(timings[key.replace("with", "without")]),
            )
            return (with_ - without) / without * 100

        overhead = added("with", statistics.median)
        print(f"{'mark as sent':>34} {'median s':>9} {'min s':>7} {'max s':>7}")
        for label, key in (
            ("the click, without the version", "without"),
            ("the click, with the version", "with"),
            ("the action alone, without", "without_action"),
            ("the action alone, with", "with_action"),
        ):
            print(
                f"{label:>34} {statistics.median(timings[key]):>9.3f} "
                f"{min(timings[key]):>7.3f} {max(timings[key]):>7.3f}"
            )
        print(
            f"{'recording the version':>34} {statistics.median(recording):>9.3f} "
            f"{min(recording):>7.3f} {max(recording):>7.3f}"
        )
        verdict = "within" if overhead <= args.budget else "OVER"
        print(
            f"recording the version adds {overhead:.1f}% to the click on the "
            f"medians, {added('with', min):.1f}% on the fastest runs ({verdict} the "
            f"{args.budget:g}% budget, judged on the medians of the click); "
            f"{added('with_action', statistics.median):.1f}% to the action alone"
        )
    finally:
        cr.rollback()
        cr.close()
    print("rolled back: the database is unchanged")
    if overhead > args.budget:
        sys.exit(1)


if __name__ == "__main__":
    main()
