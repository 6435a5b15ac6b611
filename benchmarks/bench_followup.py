#!/usr/bin/env python3
"""Benchmark the follow-up reminder of quote_process.

Creates OPEN sent quotations (OVERDUE of them silent for 30 days, the others
followed up yesterday), then runs the reminder of the scheduled action
(sale.order._cron_remind_overdue_quotes) for each batch size, --rounds times
(the sizes one after the other), and prints the medians of the reminders per
second and of the SQL queries per reminder, with the queries of the full
batches of all rounds. The query count of a batch must not grow with the batch
size: the reminders of a batch are rendered, queued, scheduled and recorded
with a fixed number of queries, plus Odoo's own bulk statements (one multi-row
INSERT per 100 rows, one rendering chunk per 50 mails) above those sizes; never
a query per quotation. The first run of a process also fills Odoo's caches
(templates, external ids, compiled email bodies), as the first run of a cron
worker does: the medians are those of a worker that has run before.

The defaults run in about three minutes; the issue's scale (--quotes 100000
--overdue 10000) takes two to three minutes per batch size and round on two
cores.

Everything happens inside one transaction that is rolled back at the end (each
batch size runs in a savepoint rolled back too): the database is left as it
was. The database must have quote_process installed.

Examples:
    python3 benchmarks/bench_followup.py -d qp_bench
    python3 benchmarks/bench_followup.py -d qp_bench --quotes 100000 --overdue 10000
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
        "--quotes", type=int, default=5000, help="open sent quotations (5000)"
    )
    parser.add_argument(
        "--overdue", type=int, default=500, help="of which overdue (500)"
    )
    parser.add_argument(
        "--batch-sizes",
        default="25,50,100,200",
        help="comma-separated batch sizes to compare (25,50,100,200)",
    )
    parser.add_argument(
        "--owners", type=int, default=8, help="salespeople owning the quotes (8)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of every batch size, one size after the other; medians are "
        "printed (3)",
    )
    add_connection_arguments(parser)
    args = parser.parse_args()
    args.batch_sizes = [int(size) for size in args.batch_sizes.split(",") if size]
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    if not 0 <= args.overdue <= args.quotes:
        parser.error("--overdue must be between 0 and --quotes")
    return args


def odoo_registry(args):
    config.parse_config(odoo_options(args))
    return Registry(args.database)


def create_quotes(env, args):
    """Owners, a team, customers, then the quotations copied in SQL."""
    cr = env.cr
    zones = ["Europe/Brussels", "Asia/Shanghai", "America/Los_Angeles", "UTC"]
    salesman = env.ref("sales_team.group_sale_salesman")
    owners = env["res.users"].create(
        [
            {
                "name": f"Bench Owner {index}",
                "login": f"bench_followup_owner_{index}",
                "email": f"bench.owner.{index}@example.com",
                "tz": zones[index % len(zones)],
                "group_ids": [(6, 0, salesman.ids)],
            }
            for index in range(args.owners)
        ]
    )
    leader = env["res.users"].create(
        {
            "name": "Bench Leader",
            "login": "bench_followup_leader",
            "email": "bench.leader@example.com",
            "group_ids": [(6, 0, env.ref("sales_team.group_sale_manager").ids)],
        }
    )
    team = env["crm.team"].create({"name": "Bench Follow-up", "user_id": leader.id})
    customers = env["res.partner"].create(
        [{"name": f"Bench Customer {index}", "is_company": True} for index in range(50)]
    )
    product = env["product.product"].create({"name": "Bench Widget", "list_price": 90})
    model = env["sale.order"].create(
        {
            "partner_id": customers[0].id,
            "user_id": owners[0].id,
            "team_id": team.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 4})],
        }
    )
    env.flush_all()
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'sale_order' AND column_name NOT IN ('id', 'name')
        """
    )
    columns = [row[0] for row in cr.fetchall()]
    column_list = ", ".join(f'"{c}"' for c in columns)
    cr.execute(
        f"""
        INSERT INTO sale_order ("name", {column_list})
        SELECT 'BENCH-' || n, {column_list}
          FROM sale_order, generate_series(1, %s) AS n
         WHERE sale_order.id = %s
        RETURNING id
        """,
        [args.quotes, model.id],
    )
    ids = sorted(row[0] for row in cr.fetchall())
    overdue_ids = ids[: args.overdue]
    cr.execute(
        """
        UPDATE sale_order
           SET state = 'sent', customer_response = 'pending',
               quote_preexisting = FALSE, reminder_count = 0,
               last_reminder_date = NULL, last_escalation_date = NULL,
               quote_sent_date = now() at time zone 'UTC' - interval '40 days',
               last_followup_date = now() at time zone 'UTC' - CASE
                   WHEN id = ANY(%s) THEN interval '30 days' ELSE interval '1 day' END,
               user_id = (%s::int[])[1 + id %% %s],
               partner_id = (%s::int[])[1 + id %% %s]
         WHERE id = ANY(%s)
        """,
        [
            overdue_ids,
            [owner.id for owner in owners],
            len(owners),
            customers.ids,
            len(customers),
            ids,
        ],
    )
    # as in real life, each salesperson follows their quotations
    cr.execute(
        """
        INSERT INTO mail_followers (res_model, res_id, partner_id)
        SELECT 'sale.order', so.id, u.partner_id
          FROM sale_order so JOIN res_users u ON u.id = so.user_id
         WHERE so.id = ANY(%s)
        ON CONFLICT DO NOTHING
        """,
        [ids],
    )
    env.invalidate_all()
    return ids


def run(env, batch_size):
    """One run of the reminder; returns (seconds, reminders, [queries per batch])."""
    cr = env.cr
    IrCron = type(env["ir.cron"])
    marks = []

    def progress(self, processed=0, *, remaining=None, deactivate=False):
        self.env.flush_all()
        marks.append(cr.sql_log_count)
        return float("inf")

    start = time.perf_counter()

    def no_commit():
        raise RuntimeError("the benchmark never commits")

    with (
        patch.object(IrCron, "_commit_progress", progress),
        patch.object(cr, "commit", no_commit),
    ):
        reminded = env["sale.order"]._cron_remind_overdue_quotes(batch_size=batch_size)
        env.flush_all()
    seconds = time.perf_counter() - start
    per_batch = [
        after - before for before, after in zip(marks, marks[1:], strict=False)
    ]
    return seconds, reminded, per_batch


def main():
    args = parse_args()
    registry = odoo_registry(args)
    cr = registry.cursor()
    try:
        env = api.Environment(
            cr, SUPERUSER_ID, {"tracking_disable": True, "no_reset_password": True}
        )
        if "quote_preexisting" not in env["sale.order"]._fields:
            sys.exit(f"quote_process is not installed on database {args.database}")
        start = time.perf_counter()
        create_quotes(env, args)
        print(
            f"{args.quotes} open quotations, {args.overdue} overdue, "
            f"{args.owners} owners: created in {time.perf_counter() - start:.1f}s"
        )
        print(f"medians of {args.rounds} round(s):")
        print(
            f"{'batch size':>10} {'reminders':>9} {'seconds':>8} {'rem./s':>8} "
            f"{'queries/batch (min-median-max, full batches)':>46} {'queries/rem.':>12}"
        )
        runs = {batch_size: [] for batch_size in args.batch_sizes}
        for _round in range(args.rounds):
            for batch_size in args.batch_sizes:
                savepoint = cr.savepoint()
                try:
                    runs[batch_size].append(run(env, batch_size))
                finally:
                    savepoint.close(rollback=True)
                    env.invalidate_all()
        medians = {}
        for batch_size, results in runs.items():
            seconds = statistics.median(result[0] for result in results)
            reminded = results[0][1]
            per_batch = [
                count
                for result in results
                for count in (result[2][:-1] if len(result[2]) > 1 else result[2])
            ]
            if len(results[0][2]) > 1:
                medians[batch_size] = statistics.median(per_batch)
            queries = (
                f"{min(per_batch)}-{statistics.median(per_batch):g}-{max(per_batch)}"
                if per_batch
                else "-"
            )
            per_reminder = statistics.median(
                sum(result[2]) / result[1] if result[1] else 0 for result in results
            )
            print(
                f"{batch_size:>10} {reminded:>9} {seconds:>8.2f} "
                f"{reminded / seconds if seconds else 0:>8.0f} {queries:>46} "
                f"{per_reminder:>12.3f}"
            )
        if len(medians) > 1:
            smallest, largest = min(medians), max(medians)
            slope = (medians[largest] - medians[smallest]) / (largest - smallest)
            print(
                f"extra queries per extra quotation in a batch: {slope:.2f} "
                "(no query per quotation: only Odoo's bulk statements, one multi-row "
                "INSERT per 100 rows and one template rendering per 50 mails, "
                "come on top of a fixed cost per batch; an N+1 pattern would show "
                "1.00 or more)"
            )
    finally:
        cr.rollback()
        cr.close()
    print("rolled back: the database is unchanged")


if __name__ == "__main__":
    main()
