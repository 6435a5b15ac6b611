from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.http import Request
from odoo.tests import HttpCase, tagged

from .common import LostQuoteCommon


@tagged("post_install", "-at_install")
class TestLostQuotes(LostQuoteCommon):
    def _sent_quote(self, user=None, amount=100.0, **vals):
        order = self._create_quote(user or self.salesman, amount, **vals)
        order.with_user(user or self.salesman).action_quotation_sent()
        self.assertEqual(order.state, "sent")
        return order

    def _messages(self, record):
        return "\n".join(record.message_ids.mapped("body"))

    # ------------------------------------------------------------------
    # The wizard
    # ------------------------------------------------------------------
    @freeze_time("2026-03-05 10:00:00")
    def test_wizard_one_quote(self):
        order = self._sent_quote()
        self.mark_lost(
            order, self.salesman, self.reason_price, "Competitor offered 8% less"
        )
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.lost_reason_id, self.reason_price)
        self.assertEqual(order.lost_note, "Competitor offered 8% less")
        self.assertEqual(str(order.lost_date), "2026-03-05")
        self.assertEqual(order.customer_response, "declined")
        messages = self._messages(order)
        self.assertIn("Quotation lost: Our price was higher", messages)
        self.assertIn("Competitor offered 8% less", messages)

    def test_wizard_many_quotes_from_list(self):
        """The list's Mark as Lost action handles several quotations at once."""
        orders = (
            self._create_quote(self.salesman, 100.0)
            | self._sent_quote(amount=200.0)
            | self._sent_quote(amount=300.0)
        )
        server_action = self.env.ref("quote_process.sale_order_action_mark_lost")
        self.assertIn(
            self.env.ref("sales_team.group_sale_salesman"), server_action.group_ids
        )
        action = (
            server_action.with_user(self.salesman)
            .with_context(active_model="sale.order", active_ids=orders.ids)
            .run()
        )
        self.assertEqual(action["res_model"], "quote.lost.wizard")
        wizard = (
            self.env["quote.lost.wizard"]
            .with_user(self.salesman)
            .with_context(**action["context"])
            .create({"lost_reason_id": self.reason_speed.id})
        )
        self.assertEqual(wizard.order_ids, orders)
        self.assertEqual(wizard.order_count, 3)
        wizard.action_confirm()
        self.assertEqual(set(orders.mapped("state")), {"cancel"})
        self.assertEqual(orders.lost_reason_id, self.reason_speed)
        self.assertTrue(all(orders.mapped("lost_date")))
        for order in orders:
            self.assertIn("Quotation lost", self._messages(order))

    def test_wizard_requires_reason(self):
        order = self._sent_quote()
        # RPC: create the wizard without a reason.
        with self.assertRaisesRegex(UserError, "without a reason"):
            self.env["quote.lost.wizard"].with_user(self.salesman).create(
                {"order_ids": [Command.set(order.ids)], "lost_note": "no reason"}
            )
        with self.assertRaisesRegex(UserError, "without a reason"):
            self.env["quote.lost.wizard"].with_user(self.salesman).create(
                {"order_ids": [Command.set(order.ids)], "lost_reason_id": False}
            )
        self.assertEqual(order.state, "sent")
        self.assertFalse(order.lost_reason_id)

    def test_wizard_refuses_confirmed_order(self):
        order = self._create_quote(self.salesman, 100.0)
        order.action_confirm()
        with self.assertRaisesRegex(UserError, "Only open quotations"):
            order.with_user(self.salesman).action_mark_lost()
        # Nor through the wizard created by RPC.
        wizard = (
            self.env["quote.lost.wizard"]
            .with_user(self.salesman)
            .create(
                {
                    "order_ids": [Command.set(order.ids)],
                    "lost_reason_id": self.reason_price.id,
                }
            )
        )
        with self.assertRaisesRegex(UserError, "Only open quotations"):
            wizard.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_wizard_refuses_other_salesperson_quote(self):
        """A salesperson cannot mark a colleague's quotation lost by RPC."""
        order = self._sent_quote(user=self.salesman_all)
        with self.assertRaises(AccessError):
            self.env["quote.lost.wizard"].with_user(self.salesman).create(
                {
                    "order_ids": [Command.set(order.ids)],
                    "lost_reason_id": self.reason_price.id,
                }
            ).action_confirm()
        self.assertEqual(order.state, "sent")

    # ------------------------------------------------------------------
    # Opportunity cascade
    # ------------------------------------------------------------------
    def test_opportunity_lost_with_its_last_quote(self):
        lead = self._create_opportunity(self.salesman)
        order = self._sent_quote(opportunity_id=lead.id)
        action = order.with_user(self.salesman).action_mark_lost()
        wizard = (
            self.env["quote.lost.wizard"]
            .with_user(self.salesman)
            .with_context(**action["context"])
            .create({"lost_reason_id": self.reason_budget.id, "lost_note": "Frozen"})
        )
        self.assertEqual(wizard.lost_opportunity_ids, lead)
        wizard.action_confirm()
        self.assertFalse(lead.active)
        self.assertEqual(lead.probability, 0)
        self.assertEqual(lead.lost_reason_id, self.reason_budget)
        self.assertIn(order.name, self._messages(lead))

    def test_opportunity_kept_while_another_quote_is_open(self):
        lead = self._create_opportunity(self.salesman)
        first = self._sent_quote(opportunity_id=lead.id)
        second = self._create_quote(self.salesman, 150.0, opportunity_id=lead.id)
        self.mark_lost(first, self.salesman, self.reason_price)
        self.assertEqual(first.state, "cancel")
        self.assertTrue(lead.active)
        self.assertFalse(lead.lost_reason_id)
        # Losing the last open one loses the opportunity.
        self.mark_lost(second, self.salesman, self.reason_speed)
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.reason_speed)

    def test_opportunity_kept_for_quote_the_salesperson_cannot_see(self):
        """The other open quotation belongs to a colleague: it still counts."""
        lead = self._create_opportunity(self.salesman)
        order = self._sent_quote(opportunity_id=lead.id)
        colleague_quote = self._create_quote(
            self.salesman_all, 400.0, opportunity_id=lead.id
        )
        self.assertFalse(
            self.env["sale.order"]
            .with_user(self.salesman)
            .search([("id", "=", colleague_quote.id)])
        )
        self.mark_lost(order, self.salesman, self.reason_price)
        self.assertTrue(lead.active)

    def test_opportunity_kept_when_won_by_another_order(self):
        lead = self._create_opportunity(self.salesman)
        order = self._sent_quote(opportunity_id=lead.id)
        self._create_quote(self.salesman, 90.0, opportunity_id=lead.id).action_confirm()
        self.mark_lost(order, self.salesman, self.reason_price)
        self.assertTrue(lead.active)

    def test_opportunity_lost_once_for_many_quotes(self):
        lead = self._create_opportunity(self.salesman)
        orders = self._sent_quote(opportunity_id=lead.id) | self._sent_quote(
            amount=250.0, opportunity_id=lead.id
        )
        self.mark_lost(orders, self.salesman, self.reason_price)
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.reason_price)

    # ------------------------------------------------------------------
    # Cancelling
    # ------------------------------------------------------------------
    def test_cancel_sent_quote_needs_the_wizard(self):
        order = self._sent_quote()
        as_salesman = order.with_user(self.salesman)
        with self.assertRaisesRegex(UserError, "Mark as Lost"):
            as_salesman.action_cancel()
        with self.assertRaisesRegex(UserError, "Mark as Lost"):
            as_salesman.write({"state": "cancel"})
        # Odoo's own "Cancel" action of the quotations list.
        mass_cancel = (
            self.env["sale.mass.cancel.orders"]
            .with_user(self.salesman)
            .create({"sale_order_ids": [Command.set(order.ids)]})
        )
        with self.assertRaisesRegex(UserError, "Mark as Lost"):
            mass_cancel.action_mass_cancel()
        # A sales manager is held to the same rule.
        with self.assertRaisesRegex(UserError, "Mark as Lost"):
            order.with_user(self.sales_manager).action_cancel()
        self.assertEqual(order.state, "sent")
        # With a reason, the cancellation is a dated loss.
        as_salesman.write({"state": "cancel", "lost_reason_id": self.reason_price.id})
        self.assertEqual(order.state, "cancel")
        self.assertTrue(order.lost_date)

    def test_cancel_ever_sent_quote_needs_the_wizard(self):
        order = self._sent_quote()
        order.with_user(self.salesman).action_draft()
        self.assertEqual(order.state, "draft")
        self.assertTrue(order.quote_sent_date)
        with self.assertRaisesRegex(UserError, "Mark as Lost"):
            order.with_user(self.salesman).action_cancel()

    def test_cancel_draft_never_sent(self):
        order = self._create_quote(self.salesman, 100.0)
        order.with_user(self.salesman).action_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertFalse(order.lost_reason_id)
        self.assertFalse(order.lost_date)
        # A withdrawn draft has no sales outcome.
        self.assertFalse(
            self.env["quote.analysis"].search([("order_id", "=", order.id)])
        )

    def test_create_cancelled_sent_quote_refused(self):
        with self.assertRaisesRegex(UserError, "lost reason"):
            self._create_quote(
                self.sales_manager,
                100.0,
                state="cancel",
                quote_sent_date="2026-03-01 09:00:00",
            )

    # ------------------------------------------------------------------
    # The reason stays; restoring clears it
    # ------------------------------------------------------------------
    def test_lost_reason_cannot_be_cleared(self):
        order = self._sent_quote()
        self.mark_lost(order, self.salesman, self.reason_price)
        for user in (self.salesman, self.sales_manager):
            with self.assertRaisesRegex(UserError, "cannot be cleared"):
                order.with_user(user).write({"lost_reason_id": False})
            with self.assertRaisesRegex(UserError, "cannot be cleared"):
                order.with_user(user).write({"lost_date": False})
        self.assertEqual(order.lost_reason_id, self.reason_price)
        # Correcting the reason is allowed.
        order.with_user(self.salesman).write({"lost_reason_id": self.reason_speed.id})
        self.assertEqual(order.lost_reason_id, self.reason_speed)

    def test_restore_to_draft_by_owner(self):
        order = self._sent_quote()
        self.mark_lost(order, self.salesman, self.reason_price, "Too pricey")
        order.with_user(self.salesman).action_draft()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.lost_reason_id)
        self.assertFalse(order.lost_note)
        self.assertFalse(order.lost_date)
        self.assertNotEqual(order.customer_response, "declined")
        self.assertIn("the loss", self._messages(order))
        # Back in the analysis as an open quotation.
        row = self.env["quote.analysis"].search([("order_id", "=", order.id)])
        self.assertEqual(row.outcome, "open")
        # It can be lost again.
        self.mark_lost(order, self.salesman, self.reason_speed)
        self.assertEqual(order.lost_reason_id, self.reason_speed)

    def test_restore_to_draft_by_manager_only_for_others(self):
        order = self._sent_quote()
        self.mark_lost(order, self.salesman, self.reason_price)
        with self.assertRaisesRegex(UserError, "Only the salesperson"):
            order.with_user(self.salesman_all).action_draft()
        with self.assertRaisesRegex(UserError, "Only the salesperson"):
            order.with_user(self.salesman_all).write({"state": "draft"})
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.lost_reason_id, self.reason_price)
        order.with_user(self.sales_manager).action_draft()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.lost_reason_id)

    def test_restore_mentions_lost_opportunity(self):
        lead = self._create_opportunity(self.salesman)
        order = self._sent_quote(opportunity_id=lead.id)
        self.mark_lost(order, self.salesman, self.reason_price)
        self.assertFalse(lead.active)
        order.with_user(self.salesman).action_draft()
        self.assertIn("still marked as lost", self._messages(order))

    # ------------------------------------------------------------------
    # Reasons
    # ------------------------------------------------------------------
    def test_default_reasons_are_categorised(self):
        expected = {
            "lost_reason_price_higher": "price",
            "lost_reason_quote_later": "speed",
            "lost_reason_followup": "relationship",
            "lost_reason_product_fit": "product",
            "lost_reason_no_budget": "budget",
            "lost_reason_no_decision": "no_decision",
            "lost_reason_competitor_other": "competitor",
        }
        for xmlid, category in expected.items():
            reason = self.env.ref(f"quote_process.{xmlid}")
            self.assertEqual(reason.category, category, xmlid)
        self.assertEqual(self.env.ref("crm.lost_reason_1").category, "price")
        new_reason = self.env["crm.lost.reason"].create({"name": "Moved abroad"})
        self.assertEqual(new_reason.category, "other")

    def test_one_definition_of_lost(self):
        """The quotation, the analysis, the reason's count and the Lost filter
        agree on which quotations are lost: cancelled with a reason (an import
        that dates nothing) or dated lost (declined online), never withdrawn."""
        with_reason = self._create_quote(
            self.sales_manager,
            10.0,
            state="cancel",
            lost_reason_id=self.reason_budget.id,
        )
        self.assertFalse(with_reason.lost_date)
        declined = self._create_quote(self.salesman, 20.0)
        declined.with_user(self.salesman).action_cancel()
        declined.sudo().lost_date = "2026-03-05"
        withdrawn = self._create_quote(self.salesman, 30.0)
        withdrawn.with_user(self.salesman).action_cancel()
        orders = with_reason | declined | withdrawn
        self.assertEqual(orders.mapped("quote_outcome"), ["lost", "lost", "withdrawn"])
        rows = self.env["quote.analysis"].search([("order_id", "in", orders.ids)])
        self.assertEqual(rows.order_id, with_reason | declined)
        self.assertEqual(set(rows.mapped("outcome")), {"lost"})
        self.assertEqual(sum(rows.mapped("lost_count")), 2)
        self.assertEqual(self.reason_budget.quote_count, 1)
        lost_filter = self.env.ref(
            "quote_process.sale_order_view_search_inherit_quotation_lost"
        )
        self.assertIn("quote_outcome", lost_filter.arch)
        self.assertEqual(
            self.env["sale.order"].search(
                [("id", "in", orders.ids), ("quote_outcome", "=", "lost")]
            ),
            with_reason | declined,
        )

    def test_reason_counts_lost_quotes(self):
        order = self._sent_quote()
        self.mark_lost(order, self.salesman, self.reason_budget)
        reason = self.reason_budget.with_user(self.salesman)
        self.assertEqual(reason.quote_count, 1)
        action = reason.action_lost_quotes()
        self.assertEqual(
            self.env["sale.order"].search(action["domain"]).ids,
            order.ids,
        )


@tagged("post_install", "-at_install")
class TestLostQuotesPortal(HttpCase):
    def test_customer_declines_online(self):
        """Odoo's online decline still works; the salesperson records why."""
        salesman = self.env["res.users"].create(
            {
                "name": "Portal Test Salesman",
                "login": "qp_portal_salesman",
                "group_ids": [
                    Command.set([self.env.ref("sales_team.group_sale_salesman").id])
                ],
            }
        )
        customer = self.env["res.partner"].create(
            {"name": "Portal Decliner", "email": "decliner@example.com"}
        )
        product = self.env["product.product"].create(
            {"name": "Portal Widget", "list_price": 50.0}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": salesman.id,
                "require_signature": True,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        order.action_quotation_sent()
        self.authenticate(None, None)
        response = self.url_open(
            f"/my/orders/{order.id}/decline",
            data={
                "access_token": order._portal_ensure_token(),
                "decline_message": "We found it cheaper elsewhere.",
                "csrf_token": Request.csrf_token(self),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(order.state, "cancel")
        self.assertTrue(order.lost_date)
        self.assertFalse(order.lost_reason_id)
        activity = order.activity_ids
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("quote_process.mail_activity_record_lost_reason"),
        )
        self.assertEqual(activity.user_id, salesman)
        # The salesperson records the reason; the quotation stays cancelled.
        reason = self.env.ref("quote_process.lost_reason_price_higher")
        action = order.with_user(salesman).action_mark_lost()
        wizard = (
            self.env["quote.lost.wizard"]
            .with_user(salesman)
            .with_context(**action["context"])
            .create({"lost_reason_id": reason.id})
        )
        wizard.action_confirm()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.lost_reason_id, reason)
        self.assertFalse(order.activity_ids)
