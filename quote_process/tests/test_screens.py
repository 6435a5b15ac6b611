"""The screens: what the server refuses is not offered, approvers see what they
need, salespeople reach their quote analysis."""

from lxml import etree

from odoo.fields import Command
from odoo.tests import tagged

from .common import QuoteProcessCommon

BLOCKED = "approval_state in ('required', 'pending', 'rejected')"


@tagged("post_install", "-at_install")
class TestScreens(QuoteProcessCommon):
    def _arch(self, view_type, view=None, user=None):
        Order = self.env["sale.order"].with_user(user or self.salesman)
        views = Order.get_views([(view.id if view else False, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_gated_buttons_hidden_while_approval_is_needed(self):
        arch = self._arch("form")
        buttons = arch.xpath(
            "//header/button[@name='action_quotation_send' or "
            "@name='action_confirm' or @string='Print']"
        )
        # Send and Confirm, each for drafts and sent quotes, and Print
        self.assertEqual(len(buttons), 5)
        for button in buttons:
            with self.subTest(button=button.get("string"), id=button.get("id")):
                self.assertIn(BLOCKED, button.get("invisible"))
        # the deviation is on the form; the other prices of a line come from
        # their widget, not with the lines' fields that every change computes
        self.assertTrue(arch.xpath("//sheet//field[@name='max_deviation_percent']"))
        [lines] = arch.xpath("//field[@name='order_line']")
        self.assertTrue(lines.xpath("./list/widget[@name='quote_price_conflict']"))
        self.assertTrue(lines.xpath("./form//widget[@name='quote_price_conflict']"))
        self.assertFalse(lines.xpath(".//field[@name='price_conflict_warning']"))

    def test_quotes_to_approve_list(self):
        action = self.env.ref("quote_process.action_quotes_to_approve")
        arch = self._arch("list", view=action.view_id, user=self.sales_manager)
        names = [field.get("name") for field in arch.xpath("//field")]
        for name in (
            "approval_requested_by_id",
            "max_deviation_percent",
            "amount_untaxed",
            "approval_requested_date",
        ):
            self.assertIn(name, names)
        self.assertNotIn("invoice_status", names)
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "price_unit": 90.0,
                                "deviation_reason_id": self.env.ref(
                                    "quote_process.deviation_reason_competitor"
                                ).id,
                                "deviation_note": "Matched a competitor",
                            }
                        )
                    ],
                }
            )
        )
        order.action_request_approval()
        self.assertEqual(order.approval_requested_by_id, self.salesman)
        self.assertTrue(order.approval_requested_date)
        copy = order.copy()
        self.assertFalse(copy.approval_requested_date)

    def test_salespeople_reach_quote_analysis(self):
        menu = self.env.ref("quote_process.menu_quote_analysis_orders")
        visible = self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        self.assertIn(self.env.ref("sale.sale_order_menu").id, visible)
        self.assertNotIn(self.env.ref("sale.menu_sale_report").id, visible)
        # their own quotes only
        other = self.env["sale.order"].create(
            {"partner_id": self.customer.id, "user_id": self.sales_manager.id}
        )
        own = self.env["sale.order"].create(
            {"partner_id": self.customer.id, "user_id": self.salesman.id}
        )
        self.env.flush_all()
        rows = self.env["quote.analysis"].with_user(self.salesman).search([])
        self.assertIn(own, rows.order_id)
        self.assertNotIn(other, rows.order_id)
