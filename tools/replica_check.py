"""Where quote_process's calls run when Odoo has a read replica.

Run by tools/replica.sh (``make replica``), which starts a primary and a hot
standby in streaming replication, installs quote_process on the primary and
logs every statement of the standby. This script starts Odoo on the database
with ``--db_replica_host``/``--db_replica_port`` pointing at the standby, makes
a salesperson and a quotation over JSON-RPC as the administrator, then, logged
in as the salesperson, calls what the web client calls:

* the price guidance of the quote's line, the explanation of its engine price
  and a grouping of Quote Analysis: each must run on the standby (its
  statements are in the standby's log) and answer;
* Mark as Sent: it must run on the primary (it records a version there, which
  then reaches the standby).

Prints one line per check and "replica: N passed, N failed"; exits 1 on a
failure.
"""

import argparse
import json
import re
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg2

ADMIN = ("admin", "admin")
SALESPERSON = ("qp_replica_sales", "qp_replica_sales")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--standby-port", type=int, required=True)
    parser.add_argument("--standby-log", required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--workdir", required=True)
    return parser.parse_args()


class Client:
    """JSON requests to Odoo, with the session cookie of the logged-in user."""

    def __init__(self, port, database):
        self.url = f"http://127.0.0.1:{port}"
        self.database = database
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar())
        )

    def post(self, path, params, timeout=120):
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps({"jsonrpc": "2.0", "params": params}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with self.opener.open(request, timeout=timeout) as response:
            body = json.load(response)
        if "error" in body:
            data = body["error"].get("data") or {}
            raise RuntimeError(data.get("message") or body["error"].get("message"))
        return body["result"]

    def login(self, login, password):
        self.post(
            "/web/session/authenticate",
            {"db": self.database, "login": login, "password": password},
        )

    def call(self, model, method, args, kwargs=None, button=False):
        route = "call_button" if button else "call_kw"
        return self.post(
            f"/web/dataset/{route}/{model}.{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )


def start_odoo(args, log):
    command = [
        sys.executable,
        "-m",
        "odoo",
        "--database",
        args.database,
        "--db-filter",
        f"^{re.escape(args.database)}$",
        "--addons-path",
        args.addons_path,
        "--db_replica_host",
        "127.0.0.1",
        "--db_replica_port",
        str(args.standby_port),
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        str(args.http_port),
        "--workers",
        "0",
        "--max-cron-threads",
        "0",
        "--logfile",
        str(log),
        "--log-level",
        "info",
    ]
    process = subprocess.Popen(command, cwd=args.workdir)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"Odoo stopped at start; see {log}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{args.http_port}/web/health", timeout=5
            ):
                return process
        except OSError:
            time.sleep(1)
    process.terminate()
    sys.exit(f"Odoo did not answer in 180 s; see {log}")


def standby_records(args, start):
    """The records of the standby's log since ``start`` (an offset in its
    log) from Odoo's connections to the database: its statements, and the
    errors it answered (a write refused on the standby, say)."""
    time.sleep(0.5)
    with open(args.standby_log, encoding="utf-8", errors="replace") as log:
        log.seek(start)
        text = log.read()
    # a record of the log starts with its time; a statement may span lines
    records = re.split(r"\n(?=\d{4}-\d\d-\d\d )", text)
    return [record for record in records if f" {args.database} odoo-" in record]


def statements_of(records):
    return [record for record in records if "statement:" in record]


def errors_of(records):
    return [record for record in records if " ERROR: " in record]


def log_size(args):
    return Path(args.standby_log).stat().st_size


def wait_replayed(args, sql, params, timeout=30):
    """Wait until the standby answers ``sql`` with a true value."""
    deadline = time.monotonic() + timeout
    with psycopg2.connect(
        dbname=args.database, host="127.0.0.1", port=args.standby_port, user="odoo"
    ) as connection:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute("SELECT pg_is_in_recovery()")
            if not cr.fetchone()[0]:
                sys.exit("the standby is not in recovery: not a replica")
            while time.monotonic() < deadline:
                cr.execute(sql, params)
                if cr.fetchone()[0]:
                    return True
                time.sleep(0.2)
    return False


def main():
    args = parse_args()
    log = Path(args.workdir) / "odoo.log"
    odoo = start_odoo(args, log)
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'OK    ' if ok else 'FAILED'} {name}{': ' + detail if detail else ''}")

    try:
        admin = Client(args.http_port, args.database)
        admin.login(*ADMIN)
        group = admin.call(
            "ir.model.data",
            "search_read",
            [[("module", "=", "sales_team"), ("name", "=", "group_sale_salesman")]],
            {"fields": ["res_id"]},
        )[0]["res_id"]
        user_id = admin.call(
            "res.users",
            "create",
            [
                {
                    "name": "Replica Salesperson",
                    "login": SALESPERSON[0],
                    "password": SALESPERSON[1],
                    "group_ids": [(4, group)],
                }
            ],
        )
        partner_id = admin.call("res.partner", "create", [{"name": "Replica Customer"}])
        product_id = admin.call(
            "product.product",
            "create",
            [{"name": "Replica Widget", "list_price": 80.0, "type": "consu"}],
        )
        sales = Client(args.http_port, args.database)
        sales.login(*SALESPERSON)
        order_id = sales.call(
            "sale.order",
            "create",
            [
                {
                    "partner_id": partner_id,
                    "user_id": user_id,
                    "order_line": [(0, 0, {"product_id": product_id})],
                }
            ],
        )
        # Reads go to the standby: the quote is read there once replayed.
        check(
            "the quote reached the standby",
            wait_replayed(
                args, "SELECT count(*) FROM sale_order WHERE id = %s", [order_id]
            ),
        )
        line = sales.call(
            "sale.order.line",
            "search_read",
            [[("order_id", "=", order_id)]],
            {
                "fields": [
                    "engine_steps",
                    "engine_price_unit",
                    "currency_id",
                    "company_id",
                ]
            },
        )[0]

        reads = (
            (
                "price guidance",
                lambda: sales.call(
                    "sale.order.line",
                    "get_price_guidance_display",
                    [[[product_id, partner_id, line["company_id"][0]]]],
                ),
                "quote_guidance_stat",
            ),
            (
                "price explanation",
                lambda: sales.call(
                    "sale.order.line",
                    "get_engine_trace_display",
                    [
                        {
                            "engine_steps": line["engine_steps"],
                            "engine_price_unit": line["engine_price_unit"],
                            "currency_id": line["currency_id"][0],
                            "company_id": line["company_id"][0],
                        }
                    ],
                ),
                "res_currency",
            ),
            (
                "Quote Analysis by outcome",
                lambda: sales.call(
                    "quote.analysis",
                    "formatted_read_group",
                    [],
                    {"domain": [], "groupby": ["outcome"], "aggregates": ["__count"]},
                ),
                "quote_analysis",
            ),
        )
        for name, call, table in reads:
            start = log_size(args)
            result = call()
            records = standby_records(args, start)
            statements, errors = statements_of(records), errors_of(records)
            found = any(table in record for record in statements)
            check(
                f"{name} answered on the standby",
                bool(result) and found and not errors,
                f"{len(statements)} statements there, "
                f"{'reading' if found else 'none reading'} {table}"
                + (f"; refused there: {errors[0][:300]}" if errors else ""),
            )

        start = log_size(args)
        sales.call("sale.order", "action_quotation_sent", [[order_id]], button=True)
        records = standby_records(args, start)
        writes = [
            record
            for record in statements_of(records) + errors_of(records)
            if re.search(r"\b(INSERT|UPDATE|DELETE)\b", record.split("statement:")[-1])
        ]
        check(
            "Mark as Sent wrote on the primary, not the standby",
            not writes,
            writes[0][:300] if writes else "",
        )
        check(
            "its version reached the standby",
            wait_replayed(
                args,
                "SELECT count(*) FROM quote_version WHERE order_id = %s",
                [order_id],
            ),
        )
    except Exception as error:
        check("the calls", False, repr(error))
    finally:
        odoo.terminate()
        try:
            odoo.wait(60)
        except subprocess.TimeoutExpired:
            odoo.kill()
    # an error, or a read-only call that Odoo ran again on the primary because
    # it wrote on the standby
    errors = [
        line
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
        if re.match(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", line)
        or "retrying with a read/write cursor" in line
    ]
    check(
        "no error nor read-only retry in Odoo's log", not errors, "; ".join(errors[:3])
    )
    failed = results.count(False)
    print(f"replica: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
