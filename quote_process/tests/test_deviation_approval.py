from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

from .common import QuoteProcessCommon


class DeviationCommon(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["crm.team"].create(
            {"name": "Approval Team", "user_id": cls.sales_manager.id}
        )
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Approval Pricelist", "currency_id": cls.company.currency_id.id}
        )

    def _quote(self, user, price=None, discount=0.0, reason=True, qty=1.0):
        """A quotation of the team on its pricelist; a ``price`` comes with
        ``discount`` and, unless ``reason`` is False, a reason."""
        line = self.quote_line(qty=qty)
        if price is not None:
            line = self.quote_line(
                qty=qty,
                price=price,
                discount=discount,
                note=reason and "Matched a competitor's written offer",
            )
        return self.create_quote(
            user, [line], team_id=self.team.id, pricelist_id=self.pricelist.id
        )


@tagged("post_install", "-at_install")
class TestDeviation(DeviationCommon):
    def test_engine_priced_line_has_no_deviation(self):
        order = self._quote(self.salesman)
        line = order.order_line
        self.assertAlmostEqual(line.engine_price_unit, 100.0)
        self.assertAlmostEqual(line.price_unit, 100.0)
        self.assertEqual(line.deviation_percent, 0.0)
        self.assertEqual(order.approval_state, "not_required")

    def test_deviation_percent_uses_effective_price(self):
        order = self._quote(self.salesman, price=110.0, discount=10.0)
        # 110 * 0.9 = 99 -> -1%
        self.assertAlmostEqual(order.order_line.deviation_percent, -1.0)
        order = self._quote(self.salesman, price=120.0)
        self.assertAlmostEqual(order.order_line.deviation_percent, 20.0)

    def test_within_tolerance_needs_no_reason(self):
        order = self._quote(self.salesman, price=99.6, reason=False)
        self.assertAlmostEqual(order.order_line.deviation_percent, -0.4)
        self.assertFalse(order.order_line.deviation_needs_reason)

    def test_reason_and_note_required_on_create(self):
        with self.assertRaisesRegex(ValidationError, "deviation reason"):
            self._quote(self.salesman, price=97.0, reason=False)

    def test_reason_and_note_required_on_write(self):
        order = self._quote(self.salesman)
        line = order.order_line.with_user(self.salesman)
        with self.assertRaises(ValidationError):
            line.write({"price_unit": 97.0})
        with self.assertRaises(ValidationError):
            line.write(
                {"price_unit": 97.0, "deviation_reason_id": self.deviation_reason.id}
            )
        with self.assertRaises(ValidationError):
            line.write(
                {
                    "price_unit": 97.0,
                    "deviation_reason_id": self.deviation_reason.id,
                    "deviation_note": "   ",
                }
            )
        line.write(
            {
                "price_unit": 97.0,
                "deviation_reason_id": self.deviation_reason.id,
                "deviation_note": "Competitor offer of 97",
            }
        )
        self.assertAlmostEqual(line.deviation_percent, -3.0)
        # The reason cannot be removed while the deviation stays.
        with self.assertRaises(ValidationError):
            line.write({"deviation_reason_id": False})

    def test_discount_counts_as_deviation(self):
        order = self._quote(self.salesman)
        with self.assertRaises(ValidationError):
            order.order_line.with_user(self.salesman).write({"discount": 5.0})

    def test_price_above_engine_needs_reason_not_approval(self):
        with self.assertRaises(ValidationError):
            self._quote(self.salesman, price=110.0, reason=False)
        order = self._quote(self.salesman, price=110.0)
        self.assertEqual(order.approval_state, "not_required")
        order.with_user(self.salesman).action_quotation_sent()
        self.assertEqual(order.state, "sent")

    def test_import_without_reason_refused(self):
        result = (
            self.env["sale.order.line"]
            .with_user(self.salesman)
            .load(
                ["order_id/.id", "product_id/.id", "product_uom_qty", "price_unit"],
                [[str(self._quote(self.salesman).id), str(self.product.id), "1", "80"]],
            )
        )
        self.assertFalse(result["ids"])
        self.assertTrue(
            any("deviation reason" in m["message"] for m in result["messages"])
        )

    def test_form_requires_reason(self):
        order = self._quote(self.salesman)
        form = Form(order.with_user(self.salesman))
        with form.order_line.edit(0) as line:
            line.price_unit = 90.0
            self.assertTrue(line.deviation_needs_reason)
            line.deviation_reason_id = self.deviation_reason
            line.deviation_note = "Strategic first order"
        form.save()
        self.assertAlmostEqual(order.order_line.deviation_percent, -10.0)


@tagged("post_install", "-at_install")
class TestApproval(DeviationCommon):
    def test_authority_matrix(self):
        cases = [
            (self.salesman, 96.0, "not_required"),
            (self.salesman, 95.0, "not_required"),
            (self.salesman, 94.0, "required"),
            (self.salesman_all, 91.0, "not_required"),
            (self.salesman_all, 88.0, "required"),
            (self.sales_manager, 75.0, "not_required"),
            (self.sales_manager, 65.0, "required"),
        ]
        for user, price, expected in cases:
            with self.subTest(user=user.login, price=price):
                order = self._quote(user, price=price)
                self.assertEqual(order.approval_state, expected)

    def test_blocked_actions(self):
        order = self._quote(self.salesman, price=90.0).with_user(self.salesman)
        self.assertEqual(order.approval_state, "required")
        for action in (
            order.action_quotation_send,
            order.action_quotation_sent,
            order.action_confirm,
        ):
            with self.subTest(action=action.__name__):
                with self.assertRaisesRegex(UserError, "Mia Manager"):
                    action()
        with self.assertRaises(UserError):
            order.write({"state": "sent"})
        with self.assertRaises(UserError):
            self.env["ir.actions.report"]._render_qweb_pdf(
                "sale.action_report_saleorder", order.ids
            )
        order.sudo().require_signature = True
        self.assertFalse(order.sudo()._has_to_be_signed())
        self.assertFalse(order.sudo()._has_to_be_paid())
        self.assertEqual(order.state, "draft")

    def test_request_approve_send(self):
        order = self._quote(self.salesman, price=90.0).with_user(self.salesman)
        order.action_request_approval()
        self.assertEqual(order.approval_state, "pending")
        activity = order.activity_ids.filtered(
            lambda a: (
                a.activity_type_id
                == self.env.ref("quote_process.mail_activity_quote_approval")
            )
        )
        # The team leader is asked first.
        self.assertEqual(activity.user_id, self.sales_manager)
        self.assertIn("Approval requested", order.message_ids[0].body)
        with self.assertRaises(UserError):
            order.action_quotation_sent()
        with self.assertRaises(AccessError):
            order.action_approve()
        order.with_user(self.sales_manager).action_approve()
        self.assertEqual(order.approval_state, "approved")
        self.assertEqual(order.approved_by_id, self.sales_manager)
        self.assertTrue(order.approved_date)
        self.assertAlmostEqual(order.approved_deviation_percent, 10.0)
        self.assertFalse(order.activity_ids.filtered(lambda a: a.id == activity.id))
        self.assertIn("Prices approved", order.message_ids[0].body)
        order.action_quotation_sent()
        self.assertEqual(order.state, "sent")
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_not_enough_authority_cannot_approve(self):
        order = self._quote(self.salesman, price=85.0)
        order.with_user(self.salesman).action_request_approval()
        # salesman_all has 10%: not enough for 15%.
        with self.assertRaisesRegex(AccessError, "does not cover"):
            order.with_user(self.salesman_all).action_approve()
        order.with_user(self.sales_manager).action_approve()
        self.assertEqual(order.approval_state, "approved")

    def test_further_change_resets_approval(self):
        order = self._quote(self.salesman, price=90.0)
        order.with_user(self.salesman).action_request_approval()
        order.with_user(self.sales_manager).action_approve()
        line = order.order_line.with_user(self.salesman)
        line.price_unit = 92.0  # less deviation: approval holds
        self.assertEqual(order.approval_state, "approved")
        line.price_unit = 88.0  # further: approval reset
        self.assertEqual(order.approval_state, "required")
        with self.assertRaises(UserError):
            order.with_user(self.salesman).action_quotation_sent()

    def test_reject_needs_reason(self):
        order = self._quote(self.salesman, price=90.0)
        order.with_user(self.salesman).action_request_approval()
        manager_order = order.with_user(self.sales_manager)
        action = manager_order.action_reject()
        self.assertEqual(action["res_model"], "quote.approval.reject.wizard")
        with self.assertRaises(UserError):
            manager_order.action_reject(reason="")
        with self.assertRaises(UserError):
            manager_order.action_reject(reason="   ")
        wizard = (
            self.env["quote.approval.reject.wizard"]
            .with_user(self.sales_manager)
            .create({"order_id": order.id, "reason": "Not below 95 for this customer"})
        )
        wizard.action_confirm()
        self.assertEqual(order.approval_state, "rejected")
        self.assertIn("Not below 95", order.message_ids[0].body)
        with self.assertRaises(UserError):
            order.with_user(self.salesman).action_quotation_sent()
        # The salesperson can ask again.
        order.with_user(self.salesman).action_request_approval()
        self.assertEqual(order.approval_state, "pending")

    def test_nobody_approves_own_quote(self):
        director_group = self.env["res.groups"].create({"name": "Sales Director"})
        self.env["quote.discount.authority"].create(
            {
                "group_id": director_group.id,
                "max_deviation_percent": 50,
                "company_id": self.company.id,
            }
        )
        director = new_test_user(
            self.env,
            login="qp_director",
            groups="sales_team.group_sale_manager",
        )
        director.group_ids |= director_group
        # 40% below: beyond the manager's own 30%.
        order = self._quote(self.sales_manager, price=60.0)
        self.assertEqual(order.approval_state, "required")
        self.assertEqual(order._quote_get_approvers(), director)
        with self.assertRaisesRegex(AccessError, "own quote"):
            order.with_user(self.sales_manager).action_approve()
        order.with_user(self.sales_manager).action_request_approval()
        order.with_user(director).action_approve()
        self.assertEqual(order.approved_by_id, director)
        # 55% below: nobody has that authority; the request says what to do.
        order = self._quote(director, price=45.0)
        self.assertEqual(order.approval_state, "required")
        with self.assertRaisesRegex(UserError, "Nobody has a discount authority"):
            order.with_user(director).action_request_approval()

    def test_requester_cannot_approve(self):
        order = self._quote(self.salesman, price=90.0)
        order.sudo().user_id = self.salesman_all  # 10% authority, 10% below: ok
        self.assertEqual(order.approval_state, "not_required")
        order.order_line.with_user(self.salesman_all).price_unit = 85.0
        order.with_user(self.sales_manager).action_request_approval()
        with self.assertRaisesRegex(AccessError, "own quote or request"):
            order.with_user(self.sales_manager).action_approve()

    def test_salesman_cannot_write_approval_fields(self):
        order = self._quote(self.salesman, price=90.0).with_user(self.salesman)
        for vals in (
            {"approved_by_id": self.salesman.id},
            {"approved_deviation_percent": 50.0},
            {"approval_request_state": False},
            {"approved_date": "2026-01-01 00:00:00"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                order.write(vals)
        with self.assertRaises(AccessError):
            order.with_context(
                tracking_disable=True, mail_notrack=True, install_mode=True
            ).write({"approved_by_id": self.sales_manager.id})
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.salesman).create(
                {
                    "partner_id": self.customer.id,
                    "approved_by_id": self.sales_manager.id,
                    "approved_deviation_percent": 99,
                }
            )
        result = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .load(
                ["partner_id/.id", "approved_deviation_percent"],
                [[str(self.customer.id), "99"]],
            )
        )
        self.assertFalse(result["ids"])
        self.assertEqual(order.approval_state, "required")

    def test_copy_does_not_keep_approval(self):
        order = self._quote(self.salesman, price=90.0)
        order.with_user(self.salesman).action_request_approval()
        order.with_user(self.sales_manager).action_approve()
        copy = order.with_user(self.salesman).copy()
        self.assertEqual(copy.approval_state, "required")
        self.assertFalse(copy.approved_by_id)

    def test_multi_company_authorities(self):
        other = self.env["res.company"].create({"name": "Strict Co"})
        self.env["quote.discount.authority"].search(
            [("company_id", "=", other.id)]
        ).write({"max_deviation_percent": 1.0})
        self.salesman.write({"company_ids": [Command.link(other.id)]})
        product = self.product.with_company(other)
        order = (
            self.env["sale.order"]
            .with_company(other)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": other.id,
                    "user_id": self.salesman.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "price_unit": 97.0,
                                "deviation_reason_id": self.deviation_reason.id,
                                "deviation_note": "Competitor",
                            }
                        )
                    ],
                }
            )
        )
        # 3% is within the salesman's 5% at home, not in Strict Co.
        self.assertEqual(order.approval_state, "required")
        home = self._quote(self.salesman, price=97.0)
        self.assertEqual(home.approval_state, "not_required")


@tagged("post_install", "-at_install")
class TestDiscountWizard(DeviationCommon):
    def _wizard(self, order, **vals):
        return (
            self.env["sale.order.discount"]
            .with_user(self.salesman)
            .create({"sale_order_id": order.id, **vals})
        )

    def test_line_discount_needs_reason(self):
        order = self._quote(self.salesman)
        wizard = self._wizard(
            order, discount_type="sol_discount", discount_percentage=0.04
        )
        with self.assertRaises(ValidationError):
            wizard.action_apply_discount()
        wizard = self._wizard(
            order,
            discount_type="sol_discount",
            discount_percentage=0.04,
            deviation_reason_id=self.deviation_reason.id,
            deviation_note="Loyal customer",
        )
        wizard.action_apply_discount()
        self.assertAlmostEqual(order.order_line.discount, 4.0)
        self.assertEqual(order.order_line.deviation_reason_id, self.deviation_reason)
        self.assertEqual(order.approval_state, "not_required")

    def test_global_discount_counts_for_authority(self):
        self.company.sale_discount_product_id = self.env["product.product"].create(
            {"name": "Discount", "type": "service", "list_price": 0.0}
        )
        order = self._quote(self.salesman)
        self._wizard(
            order, discount_type="so_discount", discount_percentage=0.2
        ).action_apply_discount()
        self.assertEqual(len(order.order_line), 2)
        self.assertAlmostEqual(order.max_deviation_percent, 20.0, places=1)
        self.assertEqual(order.approval_state, "required")
        with self.assertRaises(UserError):
            order.with_user(self.salesman).action_quotation_sent()


@tagged("post_install", "-at_install")
class TestApprovalIsNotFollowUp(DeviationCommon):
    def test_approval_does_not_count_as_follow_up(self):
        order = self._quote(self.salesman, price=90.0)
        order.with_user(self.salesman).action_request_approval()
        order.with_user(self.sales_manager).action_approve()
        order.with_user(self.salesman).action_quotation_sent()
        sent_followup = order.last_followup_date
        order.order_line.with_user(self.salesman).write(
            {"price_unit": 85.0, "deviation_note": "Second competitor offer"}
        )
        order.with_user(self.salesman).action_request_approval()
        with freeze_time(fields.Datetime.add(sent_followup, days=3)):
            order.with_user(self.sales_manager).action_approve()
        self.assertEqual(order.approval_state, "approved")
        self.assertEqual(order.last_followup_date, sent_followup)


@tagged("post_install", "-at_install")
class TestAuthorityOfWhoSetsThePrice(DeviationCommon):
    def test_lower_authority_cutting_a_colleagues_price(self):
        """A salesperson (all documents, 10%) cutting 20% on a manager's quote
        (30%) needs approval: the lower authority counts."""
        order = self._quote(self.sales_manager)
        self.assertEqual(order.approval_state, "not_required")
        order.order_line.with_user(self.salesman_all).write(
            {
                "price_unit": 80.0,
                "deviation_reason_id": self.deviation_reason.id,
                "deviation_note": "Matched an offer",
            }
        )
        self.assertEqual(order.order_line.price_set_by_id, self.salesman_all)
        self.assertEqual(order.approval_state, "required")
        self.assertAlmostEqual(order.salesperson_authority, 10.0)
        with self.assertRaises(UserError):
            order.with_user(self.salesman_all).action_quotation_sent()
        # The manager owns the quote: he cannot approve; who set the price neither.
        self.assertNotIn(self.sales_manager, order._quote_get_approvers())
        self.assertNotIn(self.salesman_all, order._quote_get_approvers())
        # The manager takes the price over: his own authority applies again.
        order.order_line.with_user(self.sales_manager).write({"price_unit": 80.0})
        self.assertEqual(order.approval_state, "not_required")

    def test_handing_a_quote_over_keeps_the_limit(self):
        order = self._quote(self.salesman_all)
        order.order_line.with_user(self.salesman_all).write(
            {
                "price_unit": 80.0,
                "deviation_reason_id": self.deviation_reason.id,
                "deviation_note": "Matched an offer",
            }
        )
        self.assertEqual(order.approval_state, "required")
        order.with_user(self.salesman_all).write({"user_id": self.sales_manager.id})
        self.assertAlmostEqual(order.order_line.price_unit, 80.0)
        self.assertEqual(order.approval_state, "required")

    def test_price_setter_cannot_be_forged(self):
        order = self._quote(self.salesman, price=92.0)
        line = order.order_line.with_user(self.salesman)
        line.write({"price_set_by_id": self.sales_manager.id})
        self.assertEqual(line.price_set_by_id, self.salesman)
        self.assertEqual(order.approval_state, "required")
