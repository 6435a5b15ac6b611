"""Every rule of the design's "Rules that hold for every entry point", tried
through RPC create/write, load() imports, copy(), context keys and the
customer portal."""

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.service.model import get_public_method
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common import QuoteProcessCommon

# Context keys a client could send to try to skip a check: Odoo's own
# (tracking, install and import modes, archived records) and the
# ones the addon or sale read.
BYPASS_CONTEXTS = (
    {"tracking_disable": True, "mail_notrack": True, "mail_create_nolog": True},
    {"install_mode": True, "module": "quote_process"},
    {"import_file": True},
    {"active_test": False},
    {"force_price_recomputation": True},
    {"disable_cancel_warning": True},
    {"skip_approval": True, "bypass_approval": True},
)


class BypassCommon(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lost_reason = cls.env["crm.lost.reason"].search([], limit=1)
        cls.team = cls.env["crm.team"].create(
            {"name": "Bypass Team", "user_id": cls.sales_manager.id}
        )
        cls.customer.email = "customer@example.com"

    def _line(self, price=None, reason=True):
        note = price is not None and reason and "Matched a competitor"
        return self.quote_line(price=price, note=note)

    def _quote(self, user=None, price=None, **vals):
        """A quotation of the team, by default the salesman's."""
        vals = {"team_id": self.team.id, **vals}
        return self.create_quote(user or self.salesman, [self._line(price)], **vals)


@tagged("post_install", "-at_install")
class TestBypassDeviationReason(BypassCommon):
    """A line beyond the tolerance needs a reason and a note, on every path."""

    def test_create_write_copy(self):
        Order = self.env["sale.order"].with_user(self.salesman)
        with self.assertRaises(ValidationError):
            Order.create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [Command.create(self._line(90.0, reason=False))],
                }
            )
        order = self._quote()
        line = order.order_line
        for context in BYPASS_CONTEXTS:
            with self.subTest(context=context), self.assertRaises(ValidationError):
                line.with_context(**context).write({"price_unit": 90.0})
            with self.subTest(context=context), self.assertRaises(ValidationError):
                line.with_context(**context).write({"discount": 10.0})
        with self.assertRaises(ValidationError):
            line.copy({"order_id": order.id, "price_unit": 90.0})
        with self.assertRaises(ValidationError):
            order.copy({"order_line": [Command.create(self._line(90.0, reason=False))]})
        # a justified line keeps its justification when copied
        justified = self._quote(price=90.0)
        copy = justified.copy()
        self.assertEqual(copy.order_line.deviation_reason_id, self.deviation_reason)
        with self.assertRaises(ValidationError):
            copy.order_line.write({"deviation_note": " "})
        self.assertAlmostEqual(line.price_unit, 100.0)

    def test_load(self):
        result = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .load(
                [
                    "partner_id/.id",
                    "order_line/product_id/.id",
                    "order_line/price_unit",
                ],
                [[str(self.customer.id), str(self.product.id), "90"]],
            )
        )
        self.assertFalse(result["ids"])
        self.assertEqual(result["messages"][0]["type"], "error")
        order = self._quote()
        result = (
            self.env["sale.order.line"]
            .with_user(self.salesman)
            .load([".id", "price_unit"], [[str(order.order_line.id), "90"]])
        )
        self.assertFalse(result["ids"])
        self.assertAlmostEqual(order.order_line.price_unit, 100.0)


@tagged("post_install", "-at_install")
class TestBypassApprovalGate(BypassCommon):
    """A quote beyond its salesperson's authority is not sent, confirmed or
    created sent/confirmed until approved."""

    def test_actions_with_context_keys(self):
        order = self._quote(price=80.0)
        self.assertEqual(order.approval_state, "required")
        for context in BYPASS_CONTEXTS:
            blocked = order.with_context(**context)
            for action in (
                blocked.action_confirm,
                blocked.action_quotation_sent,
                blocked.action_quotation_send,
            ):
                with self.subTest(context=context, action=action.__name__):
                    with self.assertRaises(UserError):
                        action()
            with self.subTest(context=context), self.assertRaises(UserError):
                blocked.write({"state": "sale"})
        self.assertEqual(order.state, "draft")

    def test_created_sent_or_confirmed(self):
        """Creating the quote directly sent or confirmed (RPC, import, copy)
        passes the same gate."""
        for state in ("sent", "sale"):
            with self.subTest(state=state), self.assertRaises(UserError):
                self._quote(price=80.0, state=state)
        result = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .load(
                [
                    "partner_id/.id",
                    "state",
                    "order_line/product_id/.id",
                    "order_line/price_unit",
                    "order_line/deviation_reason_id/.id",
                    "order_line/deviation_note",
                ],
                [
                    [
                        str(self.customer.id),
                        "sale",
                        str(self.product.id),
                        "80",
                        str(self.deviation_reason.id),
                        "Competitor",
                    ]
                ],
            )
        )
        self.assertFalse(result["ids"])
        order = self._quote(price=80.0)
        with self.assertRaises(UserError):
            order.copy({"state": "sale"})
        # within the authority, creating a confirmed order still works
        confirmed = self._quote(price=97.0, state="sale")
        self.assertEqual(confirmed.state, "sale")

    def test_price_change_after_approval(self):
        order = self._quote(price=80.0)
        order.action_request_approval()
        order.with_user(self.sales_manager).action_approve()
        self.assertEqual(order.approval_state, "approved")
        order.order_line.with_context(tracking_disable=True).write({"price_unit": 75.0})
        self.assertEqual(order.approval_state, "required")
        with self.assertRaises(UserError):
            order.action_confirm()
        # back within the approved prices: no new approval needed
        order.order_line.write({"price_unit": 80.0})
        self.assertEqual(order.approval_state, "approved")
        order.action_confirm()
        self.assertEqual(order.state, "sale")


@tagged("post_install", "-at_install")
class TestBypassSelfApproval(BypassCommon):
    def test_nobody_approves_their_own(self):
        # a manager's own quote beyond their 30%
        own = self._quote(user=self.sales_manager, price=60.0)
        self.assertEqual(own.approval_state, "required")
        for context in BYPASS_CONTEXTS:
            with self.subTest(context=context), self.assertRaises(AccessError):
                own.with_context(**context).action_approve()
        # the requester cannot approve the quote they asked approval for
        order = self._quote(price=80.0)
        order.with_user(self.sales_manager).action_request_approval()
        with self.assertRaises(AccessError):
            order.with_user(self.sales_manager).action_approve()
        with self.assertRaises(AccessError):
            order.with_user(self.sales_manager).write(
                {"approved_by_id": self.admin_user.id}
            )
        self.assertEqual(order.approval_state, "pending")

    def test_private_approval_methods_not_callable_remotely(self):
        Order = self.env["sale.order"]
        for name in ("_quote_approve", "_quote_reject", "_quote_request_approval"):
            with self.subTest(name=name), self.assertRaises(AccessError):
                get_public_method(Order, name)
        self.assertTrue(get_public_method(Order, "action_approve"))


@tagged("post_install", "-at_install")
class TestBypassLostReason(BypassCommon):
    def _sent(self):
        order = self._quote()
        order.action_quotation_sent()
        return order

    def test_cancel_sent_quote_needs_reason(self):
        order = self._sent()
        for context in BYPASS_CONTEXTS:
            ctx_order = order.with_context(**context)
            with self.subTest(context=context), self.assertRaises(UserError):
                ctx_order.action_cancel()
            with self.subTest(context=context), self.assertRaises(UserError):
                ctx_order.write({"state": "cancel"})
        result = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .load([".id", "state"], [[str(order.id), "cancel"]])
        )
        self.assertFalse(result["ids"])
        self.assertEqual(order.state, "sent")
        with self.assertRaises(UserError):
            self.env["quote.lost.wizard"].with_user(self.salesman).create(
                {"order_ids": [Command.set(order.ids)]}
            )

    def test_reason_of_lost_quote_cannot_be_cleared(self):
        order = self._sent()
        self.mark_lost(order, self.salesman, self.lost_reason)
        self.assertEqual(order.state, "cancel")
        for context in BYPASS_CONTEXTS:
            with self.subTest(context=context), self.assertRaises(UserError):
                order.with_context(**context).write({"lost_reason_id": False})
        result = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .load([".id", "lost_reason_id/.id"], [[str(order.id), ""]])
        )
        self.assertFalse(result["ids"])
        self.assertEqual(order.lost_reason_id, self.lost_reason)
        copy = order.copy()
        self.assertFalse(copy.lost_reason_id)
        self.assertEqual(copy.state, "draft")


@tagged("post_install", "-at_install")
class TestBypassReminderOnce(BypassCommon):
    def test_reminder_once_per_period(self):
        with freeze_time("2025-03-03 09:00:00"):
            order = self._quote()
            order.action_quotation_sent()
        cron = self.env.ref("quote_process.ir_cron_remind_overdue_quotes")
        with freeze_time("2025-03-14 09:00:00"), self.enter_registry_test_mode():
            for context in ({}, *BYPASS_CONTEXTS):
                cron.sudo().with_context(**context).method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(order.reminder_count, 1)
        with self.assertRaises(AccessError):
            order.write({"reminder_count": 0, "last_reminder_date": False})


@tagged("post_install", "-at_install")
class TestBypassPortal(BypassCommon, HttpCase):
    """The customer cannot sign or pay a quote awaiting approval, with a valid
    access token."""

    def _awaiting_approval(self, **vals):
        order = self._quote(price=80.0, **vals)
        order.action_request_approval()
        order.with_user(self.sales_manager).action_approve()
        order.action_quotation_sent()
        # the salesperson lowers the price after the approval and the sending
        order.order_line.write({"price_unit": 70.0})
        self.assertEqual(order.approval_state, "required")
        self.assertEqual(order.state, "sent")
        order.sudo()._portal_ensure_token()
        return order

    def test_sign_refused(self):
        order = self._awaiting_approval(require_signature=True, require_payment=False)
        self.authenticate(None, None)
        result = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {
                "access_token": order.access_token,
                "name": "Customer",
                "signature": "R0lGODlhAQABAAAAACw=",
            },
        )
        self.assertIn("error", result)
        self.env.invalidate_all()
        self.assertFalse(order.signature)
        self.assertEqual(order.state, "sent")
        # the portal page itself still opens
        response = self.url_open(order.get_portal_url())
        self.assertEqual(response.status_code, 200)

    def test_pay_refused(self):
        order = self._awaiting_approval(require_signature=False, require_payment=True)
        self.authenticate(None, None)
        with (
            mute_logger("odoo.http"),
            self.assertRaisesRegex(JsonRpcException, "ValidationError"),
        ):
            self.make_jsonrpc_request(
                f"/my/orders/{order.id}/transaction",
                {
                    "access_token": order.access_token,
                    "amount": order.amount_total,
                    "flow": "redirect",
                    "payment_method_id": 1,
                    "provider_id": 1,
                    "token_id": None,
                    "tokenization_requested": False,
                    "landing_route": order.get_portal_url(),
                },
            )
        self.env.invalidate_all()
        self.assertFalse(order.sudo().transaction_ids)
        self.assertEqual(order.state, "sent")
