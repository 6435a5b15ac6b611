import threading

from freezegun import freeze_time

from odoo import api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from .common import quote_values
from .test_pricing_engine import PricingEngineCommon


class ConflictCommon(PricingEngineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_salesman = new_test_user(
            cls.env,
            login="qp_other_salesman",
            name="Olga Other",
            groups="sales_team.group_sale_salesman",
        )

    def _quote(self, user, partner=None, price=None, **values):
        note = price is not None and "Negotiated"
        line = self.quote_line(qty=2, price=price, note=note)
        values = {"pricelist_id": self.pricelist.id, **values}
        return self.create_quote(user, [line], partner=partner, **values)


@tagged("post_install", "-at_install")
class TestQuoteConflicts(ConflictCommon):
    def test_conflicting_orders_and_banner(self):
        mine = self._quote(self.salesman, self.customer_contact)
        theirs = self._quote(self.salesman_all)
        my_other = self._quote(self.salesman)
        self._quote(self.salesman_all, self.other_customer)
        self.assertEqual(mine.conflicting_order_ids, theirs)
        self.assertEqual(my_other.conflicting_order_ids, theirs)
        self.assertEqual(theirs.conflicting_order_ids, mine | my_other)
        # The salesman sees the other salesperson's quote named in the banner,
        # without access to it.
        message = mine.with_user(self.salesman).quote_conflict_message
        self.assertIn(theirs.name, message)
        self.assertIn("Alex All-Documents", message)
        self.assertIn("200.00", message)
        # Confirmed or cancelled quotes are no longer competing.
        theirs.action_confirm()
        mine.invalidate_recordset()
        self.assertFalse(mine.conflicting_order_ids)
        self.assertFalse(mine.quote_conflict_message)

    def test_line_warning_other_price(self):
        theirs = self._quote(self.salesman_all, price=90.0)
        mine = self._quote(self.salesman, self.customer_contact)
        warning = mine.order_line.with_user(self.salesman).price_conflict_warning
        self.assertIn(theirs.name, warning)
        self.assertIn("90.00", warning)
        self.assertIn("open quotation", warning)
        # Same effective price: no warning.
        mine.order_line.write(
            {
                "price_unit": 100.0,
                "discount": 10.0,
                "deviation_reason_id": self.deviation_reason.id,
                "deviation_note": "Same as colleague",
            }
        )
        self.assertFalse(mine.order_line.price_conflict_warning)
        # One cent apart is another price.
        mine.order_line.write({"price_unit": 90.01, "discount": 0.0})
        self.assertIn("90.00", mine.order_line.price_conflict_warning)
        # Prices that round to another amount in the currency differ, however
        # close; those that round to the same amount do not.
        theirs.order_line.price_unit = 90.0049
        mine.order_line.price_unit = 90.0051
        self.assertIn(theirs.name, mine.order_line.price_conflict_warning)
        mine.order_line.price_unit = 89.9951
        self.assertFalse(mine.order_line.price_conflict_warning)
        # Another customer's prices do not matter.
        other = self._quote(self.salesman, self.other_customer)
        self.assertFalse(other.order_line.price_conflict_warning)

    def test_line_warning_between_quotes_read_together(self):
        """Lines of two quotes read in one batch (a list of lines) warn of each
        other; the lines of one quote never warn of that quote."""
        cheap = self._quote(self.salesman_all, price=90.0)
        full = self._quote(self.salesman)
        full.order_line.copy({"order_id": full.id})
        lines = (cheap | full).order_line
        lines.invalidate_recordset(["price_conflict_warning"])
        warnings = {line: line.price_conflict_warning for line in lines}
        self.assertIn(full.name, warnings[cheap.order_line])
        self.assertIn("100.00", warnings[cheap.order_line])
        for line in full.order_line:
            self.assertIn(cheap.name, warnings[line])
            self.assertNotIn(full.name, warnings[line])
        # in the form of the quote, an unsaved line warns too (the widget's
        # call), never of the quote's own lines
        [warning] = (
            self.env["sale.order.line"]
            .with_user(self.salesman)
            .get_price_conflict_display(
                [self._display_request(full, id=False, price_unit=95.0)]
            )
        )
        self.assertIn(cheap.name, warning)
        self.assertNotIn(full.name, warning)

    def _display_request(self, order, line=None, **values):
        """What the price conflict widget of a quote's line asks, as the form
        holds the line (``values`` change it)."""
        line = line or order.order_line[:1]
        return {
            "id": line.id,
            "product_id": line.product_id.id,
            "price_unit": line.price_unit,
            "discount": line.discount,
            "order_id": order.id,
            "partner_id": order.partner_id.id,
            "company_id": order.company_id.id,
            "currency_id": order.currency_id.id,
            **values,
        }

    def test_widget_warnings_of_lines_saved_or_not(self):
        """The widget's call gives the warnings the lines would compute, for
        the lines as the form holds them: saved, changed, new, of a new quote."""
        theirs = self._quote(self.salesman_all, price=90.0)
        mine = self._quote(self.salesman)
        lines = self.env["sale.order.line"].with_user(self.salesman)
        saved = self._display_request(mine)
        same_price = self._display_request(mine, price_unit=100.0, discount=10.0)
        new_line = self._display_request(mine, id=False)
        new_quote = self._display_request(mine, id=False, order_id=False)
        other_customer = self._display_request(mine, partner_id=self.other_customer.id)
        warnings = lines.get_price_conflict_display(
            [saved, same_price, new_line, new_quote, other_customer]
        )
        self.assertEqual(warnings[0], mine.order_line.price_conflict_warning)
        self.assertIn(theirs.name, warnings[0])
        self.assertIn("90.00", warnings[0])
        self.assertFalse(warnings[1])
        self.assertIn(theirs.name, warnings[2])
        self.assertIn(theirs.name, warnings[3])
        self.assertFalse(warnings[4])
        # a line changed in the form is no conflict of its saved self
        self.assertFalse(
            lines.with_user(self.salesman_all).get_price_conflict_display(
                [self._display_request(theirs, price_unit=100.0)]
            )[0]
        )
        # a confirmed order's lines warn of nothing any more
        mine.action_confirm()
        self.assertEqual(lines.get_price_conflict_display([saved]), [False])

    def test_widget_warnings_checked_and_refused(self):
        mine = self._quote(self.salesman)
        lines = self.env["sale.order.line"].with_user(self.salesman)
        other_company = self.env["res.company"].create({"name": "QP Elsewhere"})
        with self.assertRaises(AccessError):
            lines.get_price_conflict_display(
                [self._display_request(mine, company_id=other_company.id)]
            )
        # another salesperson's quote is not the salesman's to read
        theirs = self._quote(self.salesman_all, self.other_customer)
        with self.assertRaises(AccessError):
            lines.get_price_conflict_display([self._display_request(theirs)])
        with self.assertRaises(UserError):
            lines.get_price_conflict_display(
                [self._display_request(mine, price_unit="ninety")]
            )
        # a line without a product or a customer has nothing to compare
        self.assertEqual(
            lines.get_price_conflict_display(
                [
                    self._display_request(mine, product_id=False),
                    self._display_request(mine, partner_id=False),
                ]
            ),
            [False, False],
        )

    def test_line_warning_recent_confirmed_orders(self):
        with freeze_time("2025-01-10 10:00:00"):
            old = self._quote(self.sales_manager, price=80.0)
            old.action_confirm()
        with freeze_time("2025-03-01 10:00:00"):
            recent = self._quote(self.sales_manager, price=85.0)
            recent.action_confirm()
        with freeze_time("2025-04-15 10:00:00"):
            mine = self._quote(self.sales_manager)
            warning = mine.order_line.price_conflict_warning
            self.assertIn(recent.name, warning)
            self.assertIn("confirmed order", warning)
            self.assertNotIn(old.name, warning)

    def test_block_policy(self):
        theirs = self._quote(self.salesman_all)
        # Warn (default): allowed, with the banner.
        allowed = self._quote(self.salesman)
        self.assertEqual(allowed.conflicting_order_ids, theirs)
        allowed.with_user(self.salesman).action_cancel()
        self.company.quote_conflict_policy = "block"
        with self.assertRaises(UserError) as refusal:
            self._quote(self.salesman, self.customer_contact)
        self.assertIn(theirs.name, str(refusal.exception))
        self.assertIn("Alex All-Documents", str(refusal.exception))
        # The same salesperson may add quotes; managers may always.
        extra = self._quote(self.salesman_all)
        manager_quote = self._quote(self.sales_manager)
        # Changing the customer or the salesperson is checked too.
        free = self._quote(self.salesman, self.other_customer)
        with self.assertRaises(UserError):
            free.with_user(self.salesman).write({"partner_id": self.customer.id})
        with self.assertRaises(UserError):
            self._quote(self.salesman_all, self.other_customer).with_user(
                self.salesman_all
            ).write({"user_id": self.other_salesman.id})
        self.assertTrue(manager_quote.conflicting_order_ids)
        # Once the other quotes are closed, the salesman may quote.
        (theirs | extra | manager_quote).with_user(self.sales_manager).action_cancel()
        self.assertTrue(self._quote(self.salesman, self.customer_contact))


@tagged("post_install", "-at_install")
class TestQuoteConflictsUi(HttpCase):
    def test_line_warns_of_another_price(self):
        salesman = new_test_user(
            self.env,
            login="qp_conflict_tour_salesman",
            groups="sales_team.group_sale_salesman",
        )
        self.env.company.quote_deviation_tolerance = 100.0
        self.env["quote.pricing.rule"].search([]).active = False
        product = self.env["product.product"].create(
            {"name": "QP Conflict Widget", "list_price": 100.0, "taxes_id": False}
        )
        customer = self.env["res.partner"].create({"name": "QP Conflict Customer"})

        def quote(price):
            line = {"product_id": product.id}
            if price:
                line["price_unit"] = price
            return self.env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "user_id": salesman.id,
                    "order_line": [Command.create(line)],
                }
            )

        quote(90.0)
        order = quote(None)
        self.assertTrue(order.order_line.price_conflict_warning)
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "quote_process_price_conflict_tour",
            login=salesman.login,
        )
        self.assertEqual(order.order_line.price_unit, 90.0)
        self.assertFalse(order.order_line.price_conflict_warning)


@tagged("post_install", "-at_install")
class TestQuoteConflictsConcurrent(TransactionCase):
    """Two salespeople create a quote for one customer at the same moment, in
    two transactions: with the Block policy, only the first one gets it. The
    data is committed by this test, and removed at its end."""

    def setUp(self):
        super().setUp()
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            self.user_a = new_test_user(
                env,
                login="qp_concurrent_a",
                groups="sales_team.group_sale_salesman",
            ).id
            self.user_b = new_test_user(
                env,
                login="qp_concurrent_b",
                groups="sales_team.group_sale_salesman",
            ).id
            self.partner = (
                env["res.partner"]
                .create({"name": "QP Concurrent Customer", "is_company": True})
                .id
            )
            self.company = env.company.id
            self.old_policy = env.company.quote_conflict_policy
            env.company.quote_conflict_policy = "block"
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            env["sale.order"].search([("partner_id", "=", self.partner)]).with_context(
                disable_cancel_warning=True
            ).unlink()
            users = env["res.users"].browse([self.user_a, self.user_b])
            partners = users.partner_id | env["res.partner"].browse(self.partner)
            users.unlink()
            partners.unlink()
            env["res.company"].browse(
                self.company
            ).quote_conflict_policy = self.old_policy

    def _create_quote(self, cr, user_id):
        env = api.Environment(cr, user_id, {})
        # Like a real request, the transaction reads before it creates.
        env.user.has_group("sales_team.group_sale_manager")
        return env["sale.order"].create(
            quote_values(env["res.partner"].browse(self.partner), [], user=env.user)
        )

    def test_two_transactions(self):
        cr_a = self.env.registry.cursor()
        cr_b = self.env.registry.cursor()
        try:
            # Transaction B starts first: its snapshot predates A's commit.
            env_b = api.Environment(cr_b, self.user_b, {})
            env_b["res.partner"].browse(self.partner).name  # noqa: B018
            self._create_quote(cr_a, self.user_a)
            outcome = {}

            def create_b():
                try:
                    self._create_quote(cr_b, self.user_b)
                    outcome["created"] = True
                except UserError as error:
                    outcome["error"] = str(error)

            thread = threading.Thread(target=create_b)
            thread.start()
            # B waits for A's lock on the customer.
            thread.join(timeout=2)
            self.assertTrue(thread.is_alive(), "the second quote did not wait")
            cr_a.commit()
            thread.join(timeout=30)
            self.assertFalse(thread.is_alive())
            self.assertNotIn("created", outcome)
            self.assertIn("QP Concurrent Customer", outcome["error"])
        finally:
            cr_b.rollback()
            cr_b.close()
            cr_a.rollback()
            cr_a.close()
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            self.assertEqual(
                env["sale.order"].search_count([("partner_id", "=", self.partner)]), 1
            )


@tagged("post_install", "-at_install")
class TestPriceLockRefused(ConflictCommon):
    def test_salesman_cannot_change_confirmed_price_without_reason(self):
        order = self._quote(self.salesman)
        order.with_user(self.salesman).action_confirm()
        with self.assertRaises(ValidationError):
            order.order_line.with_user(self.salesman).write({"price_unit": 120.0})
