"""Installed on a database full of orders: stored approval states are right,
nothing already sent or confirmed is held back, and the states follow the
authorities and the settings."""

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged

from ..hooks import post_init_hook, pre_init_hook
from .common import QuoteProcessCommon


@tagged("post_install", "-at_install")
class TestLivingDatabase(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reason = cls.env.ref("quote_process.deviation_reason_competitor")
        cls.salesman_authority = cls.env["quote.discount.authority"].search(
            [
                ("company_id", "=", cls.company.id),
                ("group_id", "=", cls.env.ref("sales_team.group_sale_salesman").id),
            ]
        )

    def _order(self, price, user=None, **vals):
        """An order priced by server code (as Odoo's or an integration's flows
        do), ``price`` for a product whose engine price is 100."""
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": (user or self.salesman).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "price_unit": price,
                            "deviation_reason_id": self.reason.id,
                            "deviation_note": "Agreed with the customer",
                        }
                    )
                ],
                **vals,
            }
        )

    def _stored_state(self, order):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT approval_state FROM sale_order WHERE id = %s", [order.id]
        )
        return self.env.cr.fetchone()[0]

    def test_confirmed_and_cancelled_never_need_approval(self):
        quote = self._order(92.0)
        self.assertEqual(quote.approval_state, "required")
        confirmed = self._order(92.0)
        confirmed.action_confirm()
        self.assertEqual(self._stored_state(confirmed), "not_required")
        quote.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(self._stored_state(quote), "not_required")
        # back to a quotation, it needs the approval again
        quote.action_draft()
        self.assertEqual(quote.approval_state, "required")

    def test_installation_hooks(self):
        sent = self._order(92.0)
        sent.state = "sent"
        draft = self._order(92.0)
        confirmed = self._order(92.0)
        confirmed.action_confirm()
        at_engine = self._order(100.0)
        self.env.flush_all()
        # as stored during installation, before the default authorities
        self.env.cr.execute(
            "UPDATE sale_order SET approval_state = 'required', "
            "quote_priced_before_install = NULL WHERE id IN %s",
            [tuple((sent | draft | confirmed | at_engine).ids)],
        )
        self.env.invalidate_all()
        pre_init_hook(self.env)
        post_init_hook(self.env)
        self.env.invalidate_all()
        self.assertTrue(sent.quote_priced_before_install)
        self.assertFalse(draft.quote_priced_before_install)
        self.assertEqual(self._stored_state(sent), "not_required")
        self.assertEqual(self._stored_state(draft), "required")
        self.assertEqual(self._stored_state(confirmed), "not_required")
        self.assertEqual(self._stored_state(at_engine), "not_required")
        # list, banner and gate agree: the salesperson confirms the sent quote
        sent.with_user(self.salesman).action_confirm()
        self.assertEqual(sent.state, "sale")
        with self.assertRaises(UserError):
            draft.with_user(self.salesman).action_quotation_sent()

    def test_sent_before_installation_opt_in_and_new_prices(self):
        sent = self._order(92.0, state="sent")
        sent.sudo().quote_priced_before_install = True
        self.assertEqual(sent.approval_state, "not_required")
        self.company.quote_approve_preexisting = True
        self.assertEqual(self._stored_state(sent), "required")
        with self.assertRaises(UserError):
            sent.with_user(self.salesman).action_confirm()
        self.company.quote_approve_preexisting = False
        self.assertEqual(self._stored_state(sent), "not_required")
        # a person sets a new price: the quote follows the rules again
        sent.order_line.with_user(self.salesman).write({"price_unit": 91.0})
        self.assertEqual(sent.approval_state, "required")

    def test_authority_and_tolerance_changes_refresh_open_quotes(self):
        quote = self._order(92.0)
        confirmed = self._order(92.0)
        confirmed.action_confirm()
        self.assertEqual(self._stored_state(quote), "required")
        self.env.flush_all()
        write_date = confirmed.write_date
        self.salesman_authority.max_deviation_percent = 10.0
        self.assertEqual(self._stored_state(quote), "not_required")
        self.salesman_authority.max_deviation_percent = 5.0
        self.assertEqual(self._stored_state(quote), "required")
        self.salesman_authority.unlink()
        self.assertEqual(self._stored_state(quote), "required")
        self.env["quote.discount.authority"].create(
            {
                "group_id": self.env.ref("sales_team.group_sale_salesman").id,
                "max_deviation_percent": 8.0,
            }
        )
        self.assertEqual(self._stored_state(quote), "not_required")
        self.company.quote_deviation_tolerance = 1.0
        self.assertEqual(self._stored_state(quote), "not_required")
        self.env.flush_all()
        self.assertEqual(confirmed.write_date, write_date)

    def test_nobody_has_the_authority(self):
        quote = self._order(50.0)
        self.assertEqual(quote.approval_state, "required")
        self.assertFalse(quote.quote_approver_ids)
        self.assertIn(self.sales_manager, quote.quote_authority_granter_ids)
        with self.assertRaisesRegex(UserError, "nobody in the company") as error:
            quote.with_user(self.salesman).action_quotation_sent()
        self.assertIn(self.sales_manager.name, str(error.exception))
        # a quote that someone may approve names its approvers, no granters
        quote.order_line.price_unit = 80.0
        self.assertIn(self.sales_manager, quote.quote_approver_ids)
        self.assertFalse(quote.quote_authority_granter_ids)
