#!/usr/bin/env python3
"""Load test: concurrent salespeople and managers, Odoo alone against quote_process.

Three runs, one after the other, each on its own throwaway database: ``odoo``,
a copy of --template-odoo (Odoo with sale_management and sale_crm), driven
with Odoo's operations; ``qp``, a copy of --template-qp (the same with
quote_process), driven with the same calls, to compare; ``qpfull``, another
copy of --template-qp, driven with all operations, quote_process's own
included, whose invariants are then checked (--sides chooses the runs).
With --rounds N, ``odoo`` and ``qp`` run N times each, alternated (odoo then
qp, then qp then odoo...), each time on a fresh copy, and the calls of their
rounds are counted together. For each run, the script:

1. starts Odoo in multi-worker mode on that database only, on 127.0.0.1 and
   free ports, and prepares the same data over JSON-RPC as admin: products,
   customers, salespeople and managers with passwords, one sales team, sent
   quotations whose follow-up is overdue; with quote_process also pricing rules,
   deviation reasons, the salespeople's discount authority (5%), and, in
   ``qpfull``, the reminder's scheduled action made due every minute;
2. runs --users simulated users (threads, 90% salespeople, 10% managers, the
   same seed on both sides) over /jsonrpc for --duration seconds or
   --max-requests calls: create a quotation from an opportunity, open, edit,
   send, confirm and cancel it, group the Sales Analysis; in ``qpfull``
   also prices within authority with a reason, prices beyond it and the
   approval request, the gate on sending them, a manager's approval, a
   salesperson approving their own request, customer responses, marking lost
   through the wizard, and the Quote Analysis;
3. stops the server, reads its log (errors, tracebacks, serialization retries)
   and, with quote_process, checks in SQL: each reminder and escalation out
   once, every untouched overdue quotation reminded once the scheduled action
   ran, nothing sent or confirmed beyond authority without an approval
   covering it, no approval beyond what was approved or by its requester.

Business refusals (UserError, ValidationError, AccessError) are counted apart
from server errors (any other exception, HTTP error or timeout). Latencies are
of the calls answered (refusals included). The p95 of each operation and the
throughput of ``qp`` are compared with ``odoo`` (the same calls); ``qpfull`` is
shown without a ratio. The exit status is 1 on a server error or a broken invariant
(a missed latency or throughput target is printed only). The databases are
dropped and the servers stopped at the end, also on Ctrl-C, unless --keep.

Examples:
    python3 benchmarks/load.py --users 30 --duration 120
    python3 benchmarks/load.py --users 5 --duration 30 --template-qp qp_db \\
        --template-odoo odoo_db
"""

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psycopg2
import requests
from odoo_connection import add_connection_arguments, odoo_options

REPO = Path(__file__).resolve().parent.parent
BUSINESS = {
    f"odoo.exceptions.{name}"
    for name in ("UserError", "ValidationError", "AccessError", "MissingError")
}
# the runs: database, operations
SIDES = {
    "odoo": "Odoo alone",
    "qp": "quote_process, Odoo's operations",
    "qpfull": "quote_process, all operations",
}
# operation: (weight for a salesperson, for a manager, quote_process only)
OPERATIONS = {
    "create_quote": (18, 0, False),
    "open_quote": (10, 0, False),
    "edit_lines": (18, 0, False),
    "send": (10, 0, False),
    "confirm": (6, 0, False),
    "cancel": (3, 0, False),
    "sales_analysis": (4, 40, False),
    "price_within_authority": (8, 0, True),
    "request_approval": (5, 0, True),
    "send_beyond_authority": (4, 0, True),
    "approve_own_request": (1, 0, True),
    "approve": (0, 60, True),
    "customer_response": (5, 0, True),
    "followup_overdue": (2, 0, True),
    "mark_lost": (4, 0, True),
    "quote_analysis": (3, 40, True),
}
# refusals the scenario provokes on purpose
EXPECTED_REFUSALS = {"send_beyond_authority", "approve_own_request", "approve"}
LOG_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) "
    r"(?P<logger>\S+): (?P<message>.*)$"
)
RETRY = re.compile(r"(\w+), \d+ tries left, try again in|maximum number of tries")
CONCURRENCY = re.compile(
    r"could not serialize access|deadlock detected|could not obtain lock"
)
CRON_RUN = re.compile(r"Follow-up: (\d+) quotations reminded or escalated")
REMINDER = "Follow up quotation %"
PKG_RESOURCES_SHIM = """from importlib.metadata import entry_points


def iter_entry_points(group, name=None):
    return [ep for ep in entry_points(group=group) if name in (None, ep.name)]
"""
ESCALATION = "No follow-up on quotation %"


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--users", type=int, default=30, help="simulated users (30)")
    add("--managers", type=float, default=0.1, help="share of managers (0.1)")
    add("--duration", type=int, default=120, help="seconds of load per database")
    add("--max-requests", type=int, default=20000, help="RPC calls per database")
    add("--warmup", type=float, default=10, help="seconds not measured (10)")
    add("--think", type=float, default=0.3, help="mean pause between operations (s)")
    add("--request-timeout", type=float, default=90, help="seconds per call (90)")
    add("--workers", type=int, default=4, help="Odoo HTTP workers (4)")
    add("--cron-workers", type=int, default=2, help="Odoo cron workers (2)")
    add("--overdue", type=int, default=120, help="overdue sent quotations (120)")
    add("--seed", type=int, default=20, help="random seed, same on both sides")
    add(
        "--rounds",
        type=int,
        default=1,
        help="runs of odoo and qp, alternated (odoo then qp, qp then odoo...), "
        "each on its own copy; their calls are counted together (1)",
    )
    add(
        "--template-qp",
        default=os.environ.get("QP_BENCH_TEMPLATE", "quote_process_bench_tmpl"),
        help="database with quote_process, copied (default: make bench's, "
        "QP_BENCH_TEMPLATE or quote_process_bench_tmpl)",
    )
    add(
        "--template-odoo",
        default=os.environ.get("QP_BENCH_ODOO_DB", "quote_process_bench_odoo"),
        help="database of Odoo alone, copied (default: make bench's, "
        "QP_BENCH_ODOO_DB or quote_process_bench_odoo)",
    )
    add(
        "--sides",
        default="odoo,qp,qpfull",
        help="the runs: odoo (Odoo alone), qp (quote_process, "
        "Odoo's operations: the same calls as Odoo alone), qpfull (quote_process, "
        "all operations, then the invariants), odoo and qp alternated over the "
        "rounds, qpfull last; default odoo,qp,qpfull",
    )
    add("--odoo-bin", default=shutil.which("odoo") or "", help="Odoo's command")
    add("--keep", action="store_true", help="keep the databases and logs")
    add_connection_arguments(parser)
    args = parser.parse_args()
    args.sides = [side for side in args.sides.split(",") if side]
    if not set(args.sides) <= set(SIDES) or not args.sides:
        parser.error("--sides: a list of odoo, qp and qpfull")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not args.odoo_bin:
        import odoo  # noqa: PLC0415

        # a namespace package: its folder, not a file
        args.odoo_bin = str(Path(list(odoo.__path__)[0]).resolve().parent / "odoo-bin")
    return args


# ----------------------------------------------------------------------
# PostgreSQL and the Odoo server
# ----------------------------------------------------------------------


def server_options(args):
    """Odoo's options for the connection and the addons path, as the other
    benchmarks read them (-c, ODOO_RC, PG*, --db_*)."""
    from odoo.tools import config  # noqa: PLC0415

    options = odoo_options(args)
    config.parse_config(options[:], setup_logging=False)
    args.pg = {
        key: config.get(f"db_{key}") or None
        for key in ("host", "port", "user", "password")
    }
    return [opt for opt in options if opt not in ("--log-level", "warn")]


def pg_connect(args, dbname):
    pg = args.pg
    return psycopg2.connect(
        dbname=dbname,
        host=pg["host"],
        port=pg["port"],
        user=pg["user"],
        password=pg["password"],
    )


def sql(args, dbname, query, params=None, fetch=True):
    conn = pg_connect(args, dbname)
    try:
        with conn, conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if fetch and cr.description else None
    finally:
        conn.close()


def admin_sql(args, statement):
    conn = pg_connect(args, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(statement)
    finally:
        conn.close()


def copy_database(args, template, name):
    for attempt in range(6):
        try:
            return admin_sql(args, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        except psycopg2.errors.ObjectInUse:
            if attempt == 5:
                raise
            time.sleep(5)  # somebody is connected to the template


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One Odoo in multi-worker mode on one database, on the loopback."""

    def __init__(self, args, dbname, logfile):
        self.port, self.logfile = free_port(), logfile
        command = [
            args.odoo_bin,
            *args.server_options,
            "-d",
            dbname,
            f"--db-filter=^{dbname}$",
            f"--workers={args.workers}",
            f"--max-cron-threads={args.cron_workers}",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            f"--logfile={logfile}",
            "--log-level=info",
            "--limit-time-real=120",
            "--limit-time-cpu=60",
            f"--limit-memory-soft={2048 * 1024 * 1024}",
            f"--limit-memory-hard={2560 * 1024 * 1024}",
            "--no-database-list",
        ]
        env = dict(os.environ)
        try:
            import pkg_resources  # noqa: F401, PLC0415
        except ImportError:
            # gevent 22 (Odoo's websocket process) imports pkg_resources, gone
            # from recent setuptools: a shim for the server's Python only
            shim = Path(logfile).parent / "shim"
            shim.mkdir(exist_ok=True)
            (shim / "pkg_resources.py").write_text(PKG_RESOURCES_SHIM)
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(shim), env.get("PYTHONPATH")])
            )
        self.process = subprocess.Popen(
            command,
            cwd="/tmp",
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self):
        logfile = self.logfile
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo stopped at start, see {logfile}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    return
            time.sleep(1)
        raise RuntimeError(f"Odoo did not answer /web/health, see {logfile}")

    def stop(self):
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session
            self.process.wait(10)


# ----------------------------------------------------------------------
# JSON-RPC
# ----------------------------------------------------------------------


class Refused(Exception):
    """A business refusal: UserError, ValidationError, AccessError."""


class ServerError(Exception):
    """Anything else: another exception, an HTTP error, a timeout."""


class Rpc:
    def __init__(self, url, db, login, password, timeout, counter=None):
        self.url, self.db, self.password = f"{url}/jsonrpc", db, password
        self.timeout, self.counter = timeout, counter
        self.session = requests.Session()
        self.uid = self.call("common", "login", db, login, password)
        if not self.uid:
            raise RuntimeError(f"login {login} refused on {db}")

    def call(self, service, method, *args):
        if self.counter is not None:
            self.counter.take()
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
        }
        try:
            response = self.session.post(self.url, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServerError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise ServerError(f"HTTP {response.status_code}")
        body = response.json()
        error = body.get("error")
        if error:
            data = error.get("data") or {}
            name = data.get("name", "")
            message = f"{name}: {data.get('message') or error.get('message')}"
            raise (Refused if name in BUSINESS else ServerError)(message)
        return body.get("result")

    def __call__(self, model, method, *args, **kwargs):
        return self.call(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )


class Counter:
    """The --max-requests cap, shared by the users of one run."""

    def __init__(self, limit, stop):
        self.left, self.stop, self.lock = limit, stop, threading.Lock()

    def take(self):
        with self.lock:
            self.left -= 1
            if self.left <= 0:
                self.stop.set()
            if self.left < 0:
                raise ServerError("--max-requests reached")  # never recorded


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------


def prepare(args, side, dbname, url, rng):
    """Same data on both sides, created over JSON-RPC as admin."""
    admin = Rpc(url, dbname, "admin", "admin", 300)
    ref = {}
    for xmlid in (
        "sales_team.group_sale_salesman",
        "sales_team.group_sale_manager",
    ):
        module, name = xmlid.split(".")
        found = admin(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        ref[xmlid] = found[0]["res_id"] if found else False
    key_account = admin("res.partner.category", "create", {"name": "Load key account"})
    customers = admin(
        "res.partner",
        "create",
        [
            {
                "name": f"Load Customer {i}",
                "is_company": True,
                "email": f"load.customer.{i}@example.com",
                "category_id": [(6, 0, [key_account])] if i % 4 == 0 else [],
            }
            for i in range(60)
        ],
    )
    category, other = admin(
        "product.category",
        "create",
        [{"name": "Load Hardware"}, {"name": "Load Parts"}],
    )
    products = admin(
        "product.product",
        "create",
        [
            {
                "name": f"Load Product {i}",
                "type": "consu",
                "list_price": round(rng.uniform(20, 500), 2),
                "categ_id": category if i % 2 else other,
            }
            for i in range(40)
        ],
    )
    managers = max(1, round(args.users * args.managers))
    people = []
    for i in range(args.users):
        manager = i < managers
        login = f"load_{'manager' if manager else 'sales'}_{i}"
        group = ref[f"sales_team.group_sale_{'manager' if manager else 'salesman'}"]
        people.append(
            {
                "login": login,
                "manager": manager,
                "id": admin(
                    "res.users",
                    "create",
                    {
                        "name": login.replace("_", " ").title(),
                        "login": login,
                        "password": f"{login}-pw",
                        "email": f"{login}@example.com",
                        "tz": "Europe/Brussels",
                        "group_ids": [(6, 0, [group])],
                    },
                ),
            }
        )
    salespeople = [p["id"] for p in people if not p["manager"]]
    admin(
        "crm.team",
        "create",
        {
            "name": "Load Team",
            "user_id": people[0]["id"],
            "member_ids": [(6, 0, salespeople)],
        },
    )
    # the overdue sent quotations of the reminder, half of them for escalation
    overdue = admin(
        "sale.order",
        "create",
        [
            {
                "partner_id": customers[i % len(customers)],
                "user_id": salespeople[i % len(salespeople)],
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": products[(i + k) % len(products)],
                            "product_uom_qty": 2,
                        },
                    )
                    for k in range(3)
                ],
            }
            for i in range(args.overdue)
        ],
    )
    data = {
        "customers": customers,
        "products": products,
        "people": people,
        "overdue": dict(
            zip(
                overdue,
                [salespeople[i % len(salespeople)] for i in range(len(overdue))],
                strict=True,
            )
        ),
        "reasons": [],
        "lost_reasons": [],
    }
    if side != "odoo":
        admin(
            "quote.pricing.rule",
            "create",
            [
                {
                    "name": "Load hardware -4%",
                    "rule_type": "base",
                    "categ_id": category,
                    "adjustment_type": "percent",
                    "adjustment_value": -4,
                    "sequence": 10,
                },
                {
                    "name": "Load key accounts -2%",
                    "rule_type": "customer",
                    "partner_category_ids": [(6, 0, [key_account])],
                    "adjustment_type": "percent",
                    "adjustment_value": -2,
                    "sequence": 20,
                },
                {
                    "name": "Load product 3 fixed",
                    "rule_type": "promotion",
                    "product_id": products[3],
                    "adjustment_type": "fixed_price",
                    "adjustment_value": 99,
                    "sequence": 30,
                },
            ],
        )
        admin(
            "quote.deviation.reason",
            "create",
            [{"name": "Load: negotiated"}, {"name": "Load: bundle"}],
        )
        data["reasons"] = admin("quote.deviation.reason", "search", [])
        authority = admin(
            "quote.discount.authority",
            "search",
            [("group_id", "=", ref["sales_team.group_sale_salesman"])],
        )
        if authority:
            admin(
                "quote.discount.authority",
                "write",
                authority,
                {"max_deviation_percent": 5},
            )
        else:
            admin(
                "quote.discount.authority",
                "create",
                {
                    "group_id": ref["sales_team.group_sale_salesman"],
                    "max_deviation_percent": 5,
                },
            )
        data["lost_reasons"] = admin("crm.lost.reason", "search", [])
    # overdue in SQL: sent 40 days ago, silent for 30 days; half of them
    # reminded 20 days ago, so that the team leader is told (escalation)
    columns = (
        """, quote_sent_date = now() at time zone 'UTC' - interval '40 days',
              last_followup_date = now() at time zone 'UTC' - interval '30 days',
              customer_response = 'pending', quote_preexisting = FALSE,
              reminder_count = (id %% 2),
              last_reminder_date = CASE WHEN id %% 2 = 1
                  THEN now() at time zone 'UTC' - interval '20 days' END"""
        if side != "odoo"
        else ""
    )
    sql(
        args,
        dbname,
        f"UPDATE sale_order SET state = 'sent' {columns} WHERE id = ANY(%s)",
        [overdue],
        fetch=False,
    )
    return data


def make_reminder_due(args, dbname):
    sql(
        args,
        dbname,
        """
        UPDATE ir_cron SET interval_number = 1, interval_type = 'minutes',
               nextcall = now() at time zone 'UTC', active = TRUE
         WHERE id = (SELECT res_id FROM ir_model_data WHERE module = 'quote_process'
                        AND name = 'ir_cron_remind_overdue_quotes')
    """,
        fetch=False,
    )
    sql(args, dbname, "SELECT pg_notify('cron_trigger', %s)", [dbname])


# ----------------------------------------------------------------------
# Simulated users
# ----------------------------------------------------------------------


class User(threading.Thread):
    def __init__(self, run, person, index):
        super().__init__(daemon=True)
        self.run_, self.person = run, person
        self.rng = random.Random(run.args.seed * 1000 + index)
        self.drafts = {}  # id: {"lines": [(line id, price at creation)], "beyond"}
        self.sent = []
        self.overdue = [
            order
            for order, owner in run.data["overdue"].items()
            if owner == person["id"]
        ]
        role = 1 if person["manager"] else 0
        self.mix = [
            (name, weights[role])
            for name, weights in OPERATIONS.items()
            if weights[role] and (run.side == "qpfull" or not weights[2])
        ]

    def run(self):
        run = self.run_
        try:
            login = self.person["login"]
            self.rpc = Rpc(
                run.url,
                run.dbname,
                login,
                f"{login}-pw",
                run.args.request_timeout,
                run.counter,
            )
        except Exception as exc:
            run.record("login", 0, 0, "error", str(exc))
            return
        names, weights = zip(*self.mix, strict=True)
        while not run.stop.is_set():
            name = self.rng.choices(names, weights)[0]
            started = time.perf_counter()
            try:
                outcome, detail = getattr(self, name)() or ("ok", "")
            except Refused as exc:
                expected = name in EXPECTED_REFUSALS
                outcome, detail = ("refused" if expected else "unexpected"), str(exc)
            except ServerError as exc:
                if run.stop.is_set() and "max-requests" in str(exc):
                    break
                outcome, detail = "error", str(exc)
            except Exception as exc:  # a bug of this script
                outcome, detail = "error", f"client: {type(exc).__name__}: {exc}"
            if outcome != "skip":
                run.record(
                    name, started, time.perf_counter() - started, outcome, detail
                )
            run.stop.wait(self.rng.uniform(0, 2 * run.args.think))

    # helpers
    def pick_draft(self, beyond=False):
        ids = [i for i, d in self.drafts.items() if d["beyond"] == beyond]
        return self.rng.choice(ids) if ids else None

    def engine_prices(self, order):
        lines = self.rpc(
            "sale.order.line",
            "search_read",
            [("order_id", "=", order)],
            ["engine_price_unit"],
        )
        return {line["id"]: line["engine_price_unit"] for line in lines}

    def set_price(self, order, factor):
        line, engine = self.rng.choice(list(self.engine_prices(order).items()))
        vals = {
            "price_unit": round(engine * factor, 2),
            "deviation_reason_id": self.rng.choice(self.run_.data["reasons"]),
            "deviation_note": f"load: {round((factor - 1) * 100)}% agreed",
        }
        self.rpc("sale.order", "write", [order], {"order_line": [(1, line, vals)]})

    def respond(self, order):
        wizard = self.rpc(
            "quote.response.wizard",
            "create",
            {"order_ids": [(6, 0, [order])], "customer_response": "negotiating"},
        )
        self.rpc("quote.response.wizard", "action_confirm", [wizard])

    # operations on both sides: the same calls
    def create_quote(self):
        data = self.run_.data
        partner = self.rng.choice(data["customers"])
        lead = self.rpc(
            "crm.lead",
            "create",
            {
                "name": f"Load opportunity {self.rng.randrange(10**6)}",
                "type": "opportunity",
                "partner_id": partner,
                "user_id": self.rpc.uid,
            },
        )
        lines = [
            (0, 0, {"product_id": product, "product_uom_qty": self.rng.randint(1, 9)})
            for product in self.rng.sample(data["products"], self.rng.randint(5, 20))
        ]
        order = self.rpc(
            "sale.order",
            "create",
            {"partner_id": partner, "opportunity_id": lead, "order_line": lines},
        )
        prices = self.rpc(
            "sale.order.line", "search_read", [("order_id", "=", order)], ["price_unit"]
        )
        self.drafts[order] = {
            "lines": [(line["id"], line["price_unit"]) for line in prices],
            "beyond": False,
        }

    def open_quote(self):
        order = self.pick_draft() or (self.sent and self.rng.choice(self.sent))
        if not order:
            return "skip", ""
        self.rpc(
            "sale.order",
            "read",
            [order],
            ["name", "partner_id", "state", "amount_total", "order_line"],
        )
        self.rpc(
            "sale.order.line",
            "search_read",
            [("order_id", "=", order)],
            ["product_id", "product_uom_qty", "price_unit", "price_subtotal"],
        )

    def edit_lines(self):
        order = self.pick_draft()
        if not order:
            return "skip", ""
        lines = self.rng.sample(self.drafts[order]["lines"], self.rng.randint(1, 3))
        commands = [
            (
                1,
                line,
                {
                    "product_uom_qty": self.rng.randint(1, 9),
                    "price_unit": round(price * self.rng.uniform(0.997, 1.003), 2),
                },
            )
            for line, price in lines
        ]
        self.rpc("sale.order", "write", [order], {"order_line": commands})

    def send(self):
        order = self.pick_draft()
        if not order:
            return "skip", ""
        self.rpc("sale.order", "action_quotation_sent", [order])
        del self.drafts[order]
        self.sent.append(order)

    def confirm(self):
        if not self.sent:
            return "skip", ""
        order = self.sent.pop(self.rng.randrange(len(self.sent)))
        self.rpc("sale.order", "action_confirm", [order])

    def cancel(self):
        order = self.pick_draft()
        if not order:
            return "skip", ""
        del self.drafts[order]
        self.rpc("sale.order", "action_cancel", [order])

    def sales_analysis(self):
        self.rpc(
            "sale.report",
            "formatted_read_group",
            [],
            ["user_id"],
            ["price_subtotal:sum", "__count"],
        )

    # quote_process only
    def price_within_authority(self):
        order = self.pick_draft()
        if not order:
            return "skip", ""
        self.set_price(order, 0.97)

    def request_approval(self):
        order = self.pick_draft()
        if not order:
            return "skip", ""
        self.set_price(order, 0.88)
        self.drafts[order]["beyond"] = True
        self.rpc("sale.order", "action_request_approval", [order])

    def send_beyond_authority(self):
        order = self.pick_draft(beyond=True)
        if not order:
            return "skip", ""
        self.rpc("sale.order", "action_quotation_sent", [order])
        del self.drafts[order]  # approved meanwhile: sent
        self.sent.append(order)

    def approve_own_request(self):
        order = self.pick_draft(beyond=True)
        if not order:
            return "skip", ""
        self.rpc("sale.order", "action_approve", [order])
        self.run_.broken.append(f"{self.person['login']} approved own quote {order}")
        return "error", "own request approved"

    def approve(self):
        pending = self.rpc(
            "sale.order", "search", [("approval_state", "=", "pending")], limit=10
        )
        if not pending:
            return "skip", ""
        self.rpc("sale.order", "action_approve", [self.rng.choice(pending)])

    def customer_response(self):
        if not self.sent:
            return "skip", ""
        self.respond(self.rng.choice(self.sent))

    def followup_overdue(self):
        if not self.overdue:
            return "skip", ""
        order = self.overdue.pop()
        self.run_.touched.add(order)
        self.respond(order)

    def mark_lost(self):
        if not self.sent:
            return "skip", ""
        order = self.sent.pop(self.rng.randrange(len(self.sent)))
        action = self.rpc("sale.order", "action_mark_lost", [order])
        context = dict(
            action.get("context") or {}, active_ids=[order], active_model="sale.order"
        )
        wizard = self.rpc(
            "quote.lost.wizard",
            "create",
            {
                "lost_reason_id": self.rng.choice(self.run_.data["lost_reasons"]),
                "lost_note": "load: lost",
            },
            context=context,
        )
        self.rpc("quote.lost.wizard", "action_confirm", [wizard])

    def quote_analysis(self):
        groupby = self.rng.choice(["outcome", "lost_reason_id", "user_id"])
        self.rpc(
            "quote.analysis",
            "formatted_read_group",
            [],
            [groupby],
            ["amount_untaxed:sum", "__count"],
        )


class Run:
    """The load on one database."""

    def __init__(self, args, side, dbname, url, data):
        self.args, self.side, self.dbname, self.url, self.data = (
            args,
            side,
            dbname,
            url,
            data,
        )
        self.stop, self.measure_from = threading.Event(), 0.0
        self.counter = Counter(args.max_requests, self.stop)
        self.calls = defaultdict(list)  # operation: [(seconds, outcome, detail)]
        self.lock = threading.Lock()
        self.touched, self.broken = set(), []

    def record(self, name, started, seconds, outcome, detail):
        """One operation; those started during the warm-up are left out,
        unless they failed on the server."""
        if started < self.measure_from and outcome != "error":
            return
        with self.lock:
            self.calls[name].append((seconds, outcome, detail))

    def load(self):
        users = [User(self, p, i) for i, p in enumerate(self.data["people"])]
        self.measure_from = time.perf_counter() + self.args.warmup
        for user in users:
            user.start()
        self.stop.wait(self.args.warmup + self.args.duration)
        self.stop.set()
        for user in users:
            user.join(self.args.request_timeout + 5)
        self.seconds = time.perf_counter() - self.measure_from


# ----------------------------------------------------------------------
# After the load: the log and the invariants
# ----------------------------------------------------------------------


def read_log(path):
    """(error records with their traceback, retries by cause, cron runs).

    Odoo logs a statement that failed on a concurrent update ("bad query ...
    could not serialize access") as an ERROR before it retries the request:
    those are counted with the retries, not as errors."""
    records, retries, cron_runs = [], defaultdict(int), []
    for line in Path(path).read_text(errors="replace").splitlines():
        match = LOG_RECORD.match(line)
        if match:
            records.append([match["level"], line])
            retry = RETRY.search(match["message"])
            if retry:
                retries[retry.group(1) or "max tries reached"] += 1
            run = CRON_RUN.search(match["message"])
            if run:
                cron_runs.append(int(run.group(1)))
        elif records:
            records[-1].append(line)
    errors = []
    for level, *lines in records:
        text = "\n".join(lines)
        if "odoo.sql_db: bad query" in lines[0] and CONCURRENCY.search(text):
            retries["logged as bad query"] += 1
        elif level in ("ERROR", "CRITICAL") or "Traceback (most recent" in text:
            errors.append(text)
    return errors, dict(retries), cron_runs


def check_invariants(args, run, cron_runs, reminders):
    """[(check, failures)] in SQL, after the server stopped; ``reminders``:
    whether the reminder's scheduled action was due during the load."""
    db, checks = run.dbname, []
    overdue = list(run.data["overdue"])
    rows = sql(
        args,
        db,
        """
        SELECT so.id, so.reminder_count - (so.id %% 2), so.last_escalation_date IS NOT NULL,
               (SELECT count(*) FROM mail_message m WHERE m.model = 'sale.order'
                  AND m.res_id = so.id AND m.subject LIKE %s),
               (SELECT count(*) FROM mail_message m WHERE m.model = 'sale.order'
                  AND m.res_id = so.id AND m.subject LIKE %s),
               (SELECT count(*) FROM mail_activity a WHERE a.res_model = 'sale.order'
                  AND a.res_id = so.id AND a.automated AND a.summary LIKE 'Follow up%%')
          FROM sale_order so WHERE so.id = ANY(%s)
    """,
        [REMINDER, ESCALATION, overdue],
    )
    twice, lost = [], []
    for order, added, escalated, reminders, escalations, todos in rows:
        if added != reminders or reminders > 1 or escalations > 1 or todos > 1:
            twice.append(
                f"quote {order}: reminder_count +{added}, {reminders} "
                f"reminder(s), {escalations} escalation(s), {todos} To-Do"
            )
        elif escalated != bool(escalations):
            twice.append(f"quote {order}: escalation date without its email or back")
        if cron_runs and order not in run.touched:
            if order % 2 == 0 and reminders != 1:
                lost.append(f"quote {order}: not reminded")
            if order % 2 == 1 and escalations != 1:
                lost.append(f"quote {order}: not escalated")
    checks.append(("each reminder/escalation out once (mails = counter)", twice))
    if reminders:
        if not cron_runs:
            lost.append("the reminder's scheduled action did not run during the load")
        checks.append(
            (f"untouched overdue reminded ({len(cron_runs)} cron runs)", lost)
        )
    authority = sql(
        args,
        db,
        """
        SELECT max_deviation_percent FROM quote_discount_authority a
          JOIN ir_model_data d ON d.res_id = a.group_id AND d.model = 'res.groups'
         WHERE d.module = 'sales_team' AND d.name = 'group_sale_salesman'""",
    )[0][0]
    orders = sql(
        args,
        db,
        """
        SELECT so.id, so.state, so.approval_state, so.max_deviation_percent,
               -- how far below the engine price, from the prices themselves
               -- (not from the stored deviation, which the addon computes)
               COALESCE(max(
                   (l.engine_price_unit - l.price_unit * (1 - COALESCE(l.discount, 0) / 100))
                   / l.engine_price_unit * 100
               ) FILTER (WHERE l.is_engine_priced AND l.engine_price_unit > 0), 0),
               so.approved_by_id, so.approved_deviation_percent, so.user_id,
               so.approval_requested_by_id
          FROM sale_order so LEFT JOIN sale_order_line l ON l.order_id = so.id
         WHERE so.user_id = ANY(%s) GROUP BY so.id
    """,
        [[p["id"] for p in run.data["people"] if not p["manager"]]],
    )
    gate, beyond = [], []
    for order, state, approval, stored, below, by, approved, owner, asked in orders:
        covered = by and below <= (approved or 0) + 0.005
        if state in ("sent", "sale") and below > authority + 0.005 and not covered:
            gate.append(
                f"quote {order} {state} at {below:.2f}% below, approved "
                f"{approved or 0:.2f}% by {by or 'nobody'}"
            )
        if state == "sent" and approval not in ("not_required", "approved"):
            gate.append(f"quote {order} sent with approval_state {approval}")
        if abs((stored or 0) - below) > 0.05:
            beyond.append(f"quote {order}: stored deviation {stored} != lines {below}")
        if approval == "approved" and not covered:
            beyond.append(f"quote {order} approved {approved}% but {below:.2f}% below")
        if by and by in (owner, asked):
            beyond.append(f"quote {order} approved by its salesperson or requester")
    gate += run.broken
    checks.append(("nothing sent/confirmed beyond authority unapproved", gate))
    checks.append(("approvals never beyond what was approved", beyond))
    return checks


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------


def stats(run, name):
    calls = run.calls.get(name, [])
    answered = sorted(s for s, outcome, _ in calls if outcome != "error")

    def pct(q):
        return answered[min(len(answered) - 1, int(q * len(answered)))] * 1000

    return {
        "n": len(calls),
        "rate": len(calls) / run.seconds,
        "p50": pct(0.5) if answered else 0,
        "p95": pct(0.95) if answered else 0,
        "errors": sum(1 for _, outcome, _ in calls if outcome == "error"),
        "refused": sum(1 for _, o, _ in calls if o in ("refused", "unexpected")),
        "unexpected": [d for _, o, d in calls if o == "unexpected"],
    }


def print_table(runs, sides, compare):
    """One row per operation, a group of columns per run; with ``compare``
    the p95 of the second run against the first's."""
    head = f"{'operation':<24}" + "".join(
        f" | {side + ': n':>9} {'op/s':>5} {'p50':>6} {'p95':>6} {'err':>3} {'ref':>4}"
        for side in sides
    )
    print("\n" + head + (f" | {'p95 x':>5} target" if compare else ""))
    print("-" * len(head) + ("-+-------------" if compare else ""))
    misses = []
    for name in OPERATIONS:
        figures = {side: stats(runs[side], name) for side in sides}
        if not any(f["n"] for f in figures.values()):
            continue
        line = f"{name:<24}"
        for side in sides:
            f = figures[side]
            line += (
                f" | {f['n']:>9} {f['rate']:>5.2f} {f['p50']:>6.0f} "
                f"{f['p95']:>6.0f} {f['errors']:>3} {f['refused']:>4}"
            )
        first, second = (figures[side] for side in sides) if compare else (0, 0)
        if compare and first["p95"] and second["n"]:
            value = second["p95"] / first["p95"]
            line += f" | {value:>5.2f} <= 1.3"
            if value > 1.3:
                misses.append(f"p95 of {name}: {value:.2f} x Odoo alone")
        print(line)
    return misses


def report(runs, results):
    misses, failed = [], False
    if "odoo" in runs and "qp" in runs:
        print("\nThe same calls: Odoo alone (odoo) and quote_process (qp)")
        misses += print_table(runs, ["odoo", "qp"], compare=True)
    for side in runs:
        if side == "qpfull" or not ("odoo" in runs and "qp" in runs):
            print(f"\n{SIDES[side]} ({side})")
            print_table(runs, [side], compare=False)
    print("\nlatencies in ms, of the calls answered; ref = business refusals")
    totals = {}
    for side, run in runs.items():
        errors, retries, cron_runs, checks = results[side]
        calls = [c for cs in run.calls.values() for c in cs]
        server_errors = sum(1 for c in calls if c[1] == "error")
        totals[side] = len(calls) / run.seconds
        print(
            f"\n{SIDES[side]} ({run.dbname}, {run.seconds:.0f} s, "
            f"{len(run.data['people'])} users):"
        )
        print(
            f"  throughput: {totals[side]:.2f} operations/s ({len(calls)} operations)"
        )
        print(
            f"  server errors: {server_errors} in calls, {len(errors)} in the log "
            "(target 0)"
        )
        print(f"  serialization retries: {sum(retries.values())} {retries or ''}")
        failed |= bool(server_errors or errors)
        details = {d for cs in run.calls.values() for _, o, d in cs if o == "error"}
        for detail in sorted(details)[:5]:
            print(f"    call error: {detail[:300]}")
        for record in errors[:5]:
            print("    log: " + record[:3000].replace("\n", "\n         "))
        for name in OPERATIONS:
            unexpected = stats(run, name)["unexpected"]
            if unexpected:
                print(
                    f"  unexpected refusals of {name}: {len(unexpected)}, e.g. "
                    f"{unexpected[0][:250]}"
                )
        if side != "odoo":
            print(f"  reminder runs (quotes reminded or escalated): {cron_runs}")
        for check, failures in checks:
            failed |= bool(failures)
            state = "OK" if not failures else f"FAILED ({len(failures)})"
            print(f"  invariant: {check}: {state}")
            for failure in failures[:5]:
                print(f"    {failure}")
    if totals.get("odoo") and "qp" in totals:
        ratio = totals["qp"] / totals["odoo"]
        print(
            f"\nthroughput of the same calls x Odoo alone: {ratio:.2f} (target >= 0.8)"
        )
        if ratio < 0.8:
            misses.append(f"throughput {ratio:.2f} x Odoo alone")
    print(
        "targets at 30 users: 0 server errors, 0 lost or duplicated reminders, "
        "approvals never beyond what was approved, p95 <= 1.3x, "
        "throughput >= 0.8x Odoo alone"
    )
    for miss in misses:
        print(f"  missed: {miss}")
    return failed


def plan(args):
    """The runs in order, (side, round): odoo and qp alternated over the
    rounds, each first in turn, qpfull once at the end."""
    compared = [side for side in args.sides if side != "qpfull"]
    runs = []
    for index in range(args.rounds):
        runs += [
            (side, index) for side in (compared if index % 2 == 0 else compared[::-1])
        ]
    return runs + [("qpfull", 0) for side in args.sides if side == "qpfull"]


def merge(runs, results, side, run, result):
    """Count a round's calls and findings with the side's earlier rounds."""
    if side not in runs:
        runs[side], results[side] = run, result
        return
    for name, calls in run.calls.items():
        runs[side].calls[name] += calls
    runs[side].seconds += run.seconds
    runs[side].dbname += f", {run.dbname}"
    errors, retries, cron_runs, checks = results[side]
    more_errors, more_retries, more_cron_runs, more_checks = result
    for cause, count in more_retries.items():
        retries[cause] = retries.get(cause, 0) + count
    # an invariant checked on each round is reported once, its failures together
    failures = dict(checks)
    for check, more_failures in more_checks:
        failures[check] = failures.get(check, []) + list(more_failures)
    results[side] = (
        errors + more_errors,
        retries,
        cron_runs + more_cron_runs,
        list(failures.items()),
    )


def main():
    args = parse_args()
    args.server_options = server_options(args)
    workdir = Path(tempfile.mkdtemp(prefix="qp_load_"))
    stamp = time.strftime("%H%M%S")
    runs_planned = plan(args)
    names = {
        (side, index): f"qp_load_{side}{index}_{stamp}" for side, index in runs_planned
    }
    templates = {
        "odoo": args.template_odoo,
        "qp": args.template_qp,
        "qpfull": args.template_qp,
    }
    made, runs, results, server = [], {}, {}, None
    try:
        for key in runs_planned:  # copied first, before anything runs on them
            side, dbname = key[0], names[key]
            copy_database(args, templates[side], dbname)
            made.append(dbname)
            sql(
                args,
                dbname,
                "UPDATE res_users SET password = 'admin' WHERE login = 'admin'",
                fetch=False,
            )
            # no other scheduled action during the load (some call the
            # Internet: IAP, publisher); no mail goes out: the queue is kept,
            # to count the reminders
            sql(
                args,
                dbname,
                "UPDATE ir_cron SET nextcall = now() at time zone 'UTC' "
                "+ interval '1 day'; DELETE FROM ir_cron_trigger",
                fetch=False,
            )
            sql(
                args,
                dbname,
                """UPDATE ir_cron SET active = FALSE WHERE id IN
                (SELECT res_id FROM ir_model_data WHERE model = 'ir.cron' AND name IN
                    ('ir_cron_mail_scheduler_action', 'ir_cron_lead_enrichment'))""",
                fetch=False,
            )
        for side, index in runs_planned:
            dbname, logfile = names[side, index], workdir / f"{side}{index}.log"
            print(f"{side}: starting Odoo on {dbname}, log {logfile}", flush=True)
            server = Server(args, dbname, logfile)
            server.wait_ready()
            data = prepare(args, side, dbname, server.url, random.Random(args.seed))
            if side == "qpfull":
                # the reminder runs beside the full load only: the runs compared
                # with Odoo alone do the same work
                make_reminder_due(args, dbname)
            run = Run(args, side, dbname, server.url, data)
            print(f"{side}: {args.users} users for {args.duration} s", flush=True)
            run.load()
            calls = sum(len(calls) for calls in run.calls.values())
            print(
                f"{side}: {calls / run.seconds:.2f} operations/s in this run",
                flush=True,
            )
            server.stop()
            server = None
            errors, retries, cron_runs = read_log(logfile)
            checks = (
                check_invariants(args, run, cron_runs, reminders=side == "qpfull")
                if side != "odoo"
                else []
            )
            merge(runs, results, side, run, (errors, retries, cron_runs, checks))
        failed = report(runs, results)
    finally:
        if server:
            server.stop()
        if not args.keep:
            for name in made:
                admin_sql(args, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(
            f"logs in {workdir}"
            + ("; databases kept: " + ", ".join(made) if args.keep else "")
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
