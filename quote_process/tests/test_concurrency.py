"""Races between real PostgreSQL transactions: two workers of the reminder's
scheduled action, and an approval racing a price change. The data is committed
on separate cursors (the test's own transaction cannot be seen by them) and
deleted at the end."""

import threading
from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import errors

from odoo import SUPERUSER_ID, api, fields
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import quote_values

QUOTES = 6


@tagged("post_install", "-at_install")
class TestConcurrency(TransactionCase):
    @contextmanager
    def _env(self, uid=SUPERUSER_ID, commit=True):
        """An environment on a new, real cursor of this database."""
        with self.registry.cursor() as cr:
            # the registry is given, not looked up: the test runner holds the
            # lock of the registries while the tests run
            cr.transaction = Transaction(self.registry)
            env = api.Environment(cr, uid, {"tz": "UTC", "lang": "en_US"})
            yield env
            if commit:
                cr.commit()

    def _make_quotes(self, env, count, **line_vals):
        customer = env["res.partner"].create(
            {"name": "Race Customer", "email": "race@example.com", "is_company": True}
        )
        product = env["product.product"].create(
            {"name": "Race Widget", "list_price": 100.0}
        )
        line = {"product_id": product.id, **line_vals}
        demo = env.ref("base.user_demo")
        orders = env["sale.order"].create(
            [quote_values(customer, [line], user=demo) for _i in range(count)]
        )
        return orders, customer, product

    def _cleanup(self, order_ids, customer_id, product_id):
        with self._env() as env:
            cr = env.cr
            cr.execute(
                "DELETE FROM mail_activity WHERE res_model = 'sale.order' "
                "AND res_id = ANY(%s)",
                [order_ids],
            )
            cr.execute(
                """DELETE FROM mail_mail WHERE mail_message_id IN (
                       SELECT id FROM mail_message
                        WHERE model = 'sale.order' AND res_id = ANY(%s))""",
                [order_ids],
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'sale.order' "
                "AND res_id = ANY(%s)",
                [order_ids],
            )
            cr.execute("DELETE FROM sale_order WHERE id = ANY(%s)", [order_ids])
            product = env["product.product"].browse(product_id)
            template = product.product_tmpl_id
            product.unlink()
            template.unlink()
            env["res.partner"].browse(customer_id).unlink()

    def _run_in_threads(self, *targets):
        barrier = threading.Barrier(len(targets))
        results = [None] * len(targets)

        def runner(index, target):
            try:
                results[index] = target(barrier)
            except Exception as error:
                results[index] = error

        threads = [
            threading.Thread(target=runner, args=(index, target))
            for index, target in enumerate(targets)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
            self.assertFalse(thread.is_alive(), "a worker is stuck")
        return results

    def test_two_reminder_workers_remind_once(self):
        with self._env() as env:
            orders, customer, product = self._make_quotes(env, QUOTES)
            orders.action_quotation_sent()
            env.flush_all()
            silent_since = fields.Datetime.now() - timedelta(days=30)
            env.cr.execute(
                """UPDATE sale_order SET quote_sent_date = %s,
                          last_followup_date = %s, quote_preexisting = FALSE
                    WHERE id = ANY(%s)""",
                [silent_since, silent_since, orders.ids],
            )
            ids = orders.ids
        try:

            def worker(barrier):
                with self._env() as env:
                    # the first query fixes the transaction's snapshot
                    env["sale.order"].search_count([("id", "in", ids)])
                    barrier.wait(timeout=60)
                    return env["sale.order"]._cron_remind_overdue_quotes(batch_size=2)

            with mute_logger("odoo.addons.quote_process.models.sale_order_reminder"):
                results = self._run_in_threads(worker, worker)
            for result in results:
                self.assertNotIsInstance(result, Exception, result)
            with self._env(commit=False) as env:
                orders = env["sale.order"].browse(ids)
                self.assertEqual(orders.mapped("reminder_count"), [1] * QUOTES)
                env.cr.execute(
                    """SELECT m.res_id, count(*)
                         FROM mail_mail mm
                         JOIN mail_message m ON m.id = mm.mail_message_id
                        WHERE m.model = 'sale.order' AND m.res_id = ANY(%s)
                          AND m.subject LIKE 'Follow up quotation %%'
                     GROUP BY m.res_id""",
                    [ids],
                )
                self.assertEqual(dict(env.cr.fetchall()), dict.fromkeys(ids, 1))
                self.assertEqual(sum(r for r in results if isinstance(r, int)), QUOTES)
        finally:
            self._cleanup(ids, customer.id, product.id)

    def test_lock_refused_by_a_concurrent_commit_is_taken_again(self):
        """Another run commits a quotation after this run's snapshot was
        taken: PostgreSQL refuses the lock, the run starts a fresh
        transaction and locks it then, instead of failing."""
        with self._env() as env:
            orders, customer, product = self._make_quotes(env, 1)
            ids = orders.ids
        try:
            with self._env() as late, self._env() as early:
                # the first query fixes this transaction's snapshot
                early["sale.order"].browse(ids).mapped("name")
                late["sale.order"].browse(ids).write({"note": "Seen by a customer"})
                late.cr.commit()
                locked = early["sale.order"].browse(ids)._quote_followup_lock()
                self.assertEqual(locked.ids, ids)
                early.invalidate_all()
                self.assertEqual(str(locked.note), "<p>Seen by a customer</p>")
        finally:
            self._cleanup(ids, customer.id, product.id)

    def test_approval_racing_price_change(self):
        """The manager approves 20% below the engine price while the
        salesperson lowers the price to 28% below: whatever the order, the
        quote does not end approved beyond what was approved."""
        reason = self.env.ref("quote_process.deviation_reason_competitor")
        with self._env() as env:
            orders, customer, product = self._make_quotes(
                env,
                1,
                price_unit=80.0,
                deviation_reason_id=reason.id,
                deviation_note="Matched a competitor",
            )
            order = orders.with_user(env.ref("base.user_demo"))
            order.action_request_approval()
            self.assertEqual(order.approval_state, "pending")
            order_id = order.id
        admin = self.env.ref("base.user_admin").id
        demo = self.env.ref("base.user_demo").id

        def retried(action):
            """Run ``action`` in a transaction, again once if it lost a
            serialization conflict (as Odoo's request and cron loops do)."""

            def target(barrier):
                for attempt in range(2):
                    try:
                        with self._env() as env:
                            env["sale.order"].browse(order_id).approval_state  # noqa: B018
                            if attempt == 0:
                                barrier.wait(timeout=60)
                            action(env)
                        return attempt
                    except errors.SerializationFailure:
                        if attempt:
                            raise
                return None

            return target

        def approve(env):
            env["sale.order"].with_user(admin).browse(order_id).action_approve()

        def lower_price(env):
            order = env["sale.order"].with_user(demo).browse(order_id)
            order.order_line.write({"price_unit": 72.0})

        try:
            with mute_logger("odoo.sql_db"):
                results = self._run_in_threads(retried(approve), retried(lower_price))
            for result in results:
                self.assertNotIsInstance(result, Exception, result)
            # exactly one of them had to retry: they touched the same quote
            self.assertEqual(sorted(results), [0, 1])
            with self._env(commit=False) as env:
                order = env["sale.order"].browse(order_id)
                self.assertAlmostEqual(order.order_line.price_unit, 72.0)
                self.assertAlmostEqual(order.max_deviation_percent, 28.0)
                fresh = order._quote_get_approval_state()
                self.assertEqual(order.approval_state, fresh)
                if order.approval_state == "approved":
                    self.assertGreaterEqual(order.approved_deviation_percent, 28.0)
                else:
                    self.assertTrue(order._quote_blocking_approval())
        finally:
            self._cleanup([order_id], customer.id, product.id)
