"""Prices set by server code running as superuser, or by an integration user,
are recorded but never refused; what people set follows the rules."""

from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

from .common import QuoteProcessCommon


@tagged("post_install", "-at_install")
class TestTrustedPrices(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration = new_test_user(
            cls.env,
            login="qp_integration",
            name="Shop Connector",
            groups="sales_team.group_sale_salesman,"
            "quote_process.group_quote_integration_prices",
        )

    def _order_vals(self, price, user=None):
        return {
            "partner_id": self.customer.id,
            "user_id": (user or self.salesman).id,
            "order_line": [
                Command.create({"product_id": self.product.id, "price_unit": price})
            ],
        }

    def test_superuser_price_recorded_not_refused(self):
        self.assertTrue(self.env.su)
        order = self.env["sale.order"].create(self._order_vals(50.0))
        line = order.order_line
        self.assertAlmostEqual(line.price_unit, 50.0)
        self.assertAlmostEqual(line.engine_price_unit, 100.0)
        self.assertAlmostEqual(line.deviation_percent, -50.0)
        self.assertTrue(line.deviation_needs_reason)
        self.assertAlmostEqual(order.max_deviation_percent, 50.0)
        # the document still never reaches the customer before the approval
        with self.assertRaises(UserError):
            self.env["ir.actions.report"]._render_qweb_pdf(
                "sale.action_report_saleorder", order.ids
            )
        # a discount written by server code is recorded too
        line.write({"discount": 10.0})
        self.assertAlmostEqual(line.deviation_percent, -55.0)
        # Odoo's own flows confirm it, and the analysis counts its deviation
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        self.env.flush_all()
        analysis = self.env["quote.analysis"].search([("order_id", "=", order.id)])
        self.assertAlmostEqual(analysis.max_deviation_percent, 55.0)
        # the price of the confirmed order changes without reason, on the chatter
        line.write({"price_unit": 40.0})
        self.assertAlmostEqual(line.price_unit, 40.0)
        self.assertIn("Price changed after confirmation", order.message_ids[0].body)

    def test_sudo_from_a_person(self):
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(self._order_vals(100.0))
        )
        line = order.order_line
        with self.assertRaises(ValidationError):
            line.write({"price_unit": 50.0})
        line.sudo().write({"price_unit": 50.0})
        self.assertAlmostEqual(line.deviation_percent, -50.0)
        # the person who sends it meets the rules at the gate
        with self.assertRaisesRegex(ValidationError, "deviation reason"):
            order.action_quotation_sent()
        line.write(
            {
                "deviation_reason_id": self.env.ref(
                    "quote_process.deviation_reason_competitor"
                ).id,
                "deviation_note": "Matched a competitor",
            }
        )
        self.assertEqual(order.approval_state, "required")
        with self.assertRaisesRegex(UserError, "approved"):
            order.action_quotation_sent()
        with self.assertRaises(UserError):
            order.action_confirm()
        self.assertEqual(order.state, "draft")

    def test_integration_user(self):
        Order = self.env["sale.order"].with_user(self.integration)
        order = Order.create(self._order_vals(60.0, user=self.integration))
        self.assertAlmostEqual(order.order_line.deviation_percent, -40.0)
        order.order_line.write({"price_unit": 55.0})
        self.assertEqual(order.order_line.price_set_by_id, self.integration)
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        # confirmed orders created at once, as connectors do
        confirmed = Order.create(
            {**self._order_vals(30.0, user=self.integration), "state": "sale"}
        )
        self.assertEqual(confirmed.state, "sale")

    def test_form_asks_a_reason_of_people_only(self):
        """The quotation form, used by server code as superuser (as Odoo's own
        tests do) or by an integration user, records the price without asking
        for a reason; a salesperson must give one."""
        for env in (self.env, self.env(user=self.integration)):
            with self.subTest(user=env.user.login):
                form = Form(env["sale.order"])
                form.partner_id = self.customer
                with form.order_line.new() as line:
                    line.product_id = self.product
                    line.price_unit = 50.0
                    self.assertTrue(line.deviation_needs_reason)
                order = form.save()
                self.assertAlmostEqual(order.order_line.deviation_percent, -50.0)
        form = Form(self.env["sale.order"].with_user(self.salesman))
        form.partner_id = self.customer
        with (
            self.assertRaisesRegex(AssertionError, "deviation_reason_id"),
            form.order_line.new() as line,
        ):
            line.product_id = self.product
            line.price_unit = 50.0

    def test_person_without_group_or_with_context_keys(self):
        Order = self.env["sale.order"].with_user(self.salesman)
        for context in (
            {},
            {"integration": True, "quote_trusted_prices": True},
            {"install_mode": True},
        ):
            with self.subTest(context=context), self.assertRaises(ValidationError):
                Order.with_context(**context).create(self._order_vals(60.0))
        # the group is granted by the administrator only, nobody has it by default
        group = self.env.ref("quote_process.group_quote_integration_prices")
        self.assertEqual(group.all_user_ids, self.integration)
        self.assertFalse(
            self.sales_manager.has_group(group.get_external_id()[group.id])
        )
