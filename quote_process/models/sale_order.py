import hashlib
import logging
from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command, Domain
from odoo.tools import (
    SQL,
    float_compare,
    float_is_zero,
    format_amount,
    format_date,
    html_escape,
)
from odoo.tools.mail import plaintext2html

from .input_check import check_client_values

_logger = logging.getLogger(__name__)

# States in which a sales order is still a quotation.
QUOTATION_STATES = ("draft", "sent")

# Set by the approval actions only.
APPROVAL_FIELDS = {
    "approval_request_state",
    "approval_requested_by_id",
    "approved_by_id",
    "approved_date",
    "approved_deviation_percent",
}
# Computed on the server from the lines: ignored in client values, or a quote
# could hide how far below the engine price it goes.
APPROVAL_COMPUTED_FIELDS = ("max_deviation_percent", "approval_state")


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Discount authority and approval
    # ------------------------------------------------------------------

    max_deviation_percent = fields.Float(
        string="Largest Discount vs Engine (%)",
        compute="_compute_max_deviation_percent",
        store=True,
        digits=(16, 2),
        help="How far below the engine price this quote goes at most, in percent: "
        "the largest of its lines' deviations below the engine price and of the "
        "whole quote's (global discounts included).",
    )
    approval_state = fields.Selection(
        selection=[
            ("not_required", "Not Required"),
            ("required", "Approval Required"),
            ("pending", "Awaiting Approval"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ],
        compute="_compute_approval_state",
        store=True,
        tracking=True,
        index=True,
        help="Whether the prices of this quote go beyond its salesperson's discount "
        "authority, and where the approval stands.",
    )
    approval_request_state = fields.Selection(
        selection=[("pending", "Pending"), ("rejected", "Rejected")],
        readonly=True,
        copy=False,
        help="Technical: the last approval request's outcome.",
    )
    approval_requested_by_id = fields.Many2one(
        "res.users",
        string="Approval Requested By",
        readonly=True,
        copy=False,
        help="Who asked for the approval of this quote's prices.",
    )
    approved_by_id = fields.Many2one(
        "res.users",
        string="Approved By",
        readonly=True,
        copy=False,
        tracking=True,
        help="Who approved this quote's prices.",
    )
    approved_date = fields.Datetime(
        readonly=True,
        copy=False,
        help="When this quote's prices were approved.",
    )
    approved_deviation_percent = fields.Float(
        string="Approved Discount (%)",
        readonly=True,
        copy=False,
        digits=(16, 2),
        help="The largest discount below the engine price covered by the approval; "
        "going further needs a new approval.",
    )
    salesperson_authority = fields.Float(
        string="Salesperson's Authority (%)",
        compute="_compute_salesperson_authority",
        digits=(16, 2),
        help="How far below the engine price the salesperson may go without approval.",
    )
    quote_approver_ids = fields.Many2many(
        "res.users",
        string="Can Approve",
        compute="_compute_quote_approver_ids",
        help="Who may approve the prices of this quote.",
    )
    can_approve_quote = fields.Boolean(
        compute="_compute_quote_approver_ids",
        help="Whether you may approve the prices of this quote.",
    )

    @api.depends(
        "order_line.deviation_percent",
        "order_line.price_subtotal",
        "order_line.engine_price_unit",
        "order_line.product_uom_qty",
    )
    def _compute_max_deviation_percent(self):
        for order in self:
            order.max_deviation_percent = order._quote_max_deviation_below()

    def _quote_max_deviation_below(self):
        """Largest deviation below the engine price, as a positive percentage."""
        self.ensure_one()
        engine_lines = self.order_line.filtered(lambda line: line._is_engine_priced())
        below = max([-line.deviation_percent for line in engine_lines], default=0.0)
        # Global discount lines (Odoo's discount wizard) lower the whole quote.
        discount_product = self.company_id.sale_discount_product_id
        discount_lines = self.order_line.filtered(
            lambda line: (
                discount_product
                and line.product_id == discount_product
                and not line._is_engine_priced()
            )
        )
        engine_total = sum(
            line.engine_price_unit * line.product_uom_qty for line in engine_lines
        )
        if discount_lines and not float_is_zero(engine_total, precision_digits=2):
            effective_total = sum(
                line._get_discounted_price() * line.product_uom_qty
                for line in engine_lines
            ) + sum(line.price_unit * line.product_uom_qty for line in discount_lines)
            below = max(below, (engine_total - effective_total) / engine_total * 100)
        return max(below, 0.0)

    @api.depends(
        "max_deviation_percent",
        "user_id",
        "company_id",
        "approval_request_state",
        "approved_deviation_percent",
        "order_line.price_set_by_id",
    )
    def _compute_approval_state(self):
        for order in self:
            order.approval_state = order._quote_get_approval_state()

    def _quote_get_approval_state(self):
        self.ensure_one()
        needed = self.max_deviation_percent
        if float_compare(needed, self._quote_salesperson_authority(), 2) <= 0:
            return "not_required"
        if (
            self.approved_by_id
            and float_compare(needed, self.approved_deviation_percent, 2) <= 0
        ):
            return "approved"
        return self.approval_request_state or "required"

    def _quote_price_setters(self):
        """Users who set a price below the engine price on this quote."""
        self.ensure_one()
        return self.order_line.filtered(
            lambda line: (
                (line._is_engine_priced() and line.deviation_percent < 0)
                or (not line._is_engine_priced() and line.price_unit < 0)
            )
        ).price_set_by_id

    def _quote_salesperson_authority(self):
        """How far below the engine price this quote may go without approval:
        the salesperson's authority, or the lower authority of a user who set
        one of its lower prices (so that nobody gives more than they may by
        cutting prices on a colleague's quote or handing it over)."""
        self.ensure_one()
        if not self.user_id:
            return 0.0
        company = self.company_id or self.env.company
        authority_model = self.env["quote.discount.authority"]
        return min(
            authority_model._get_user_authority(user, company)
            for user in self.user_id | self._quote_price_setters()
        )

    @api.depends("user_id", "company_id", "order_line.price_set_by_id")
    def _compute_salesperson_authority(self):
        for order in self:
            order.salesperson_authority = order._quote_salesperson_authority()

    @api.depends("max_deviation_percent", "approval_state", "user_id")
    @api.depends_context("uid")
    def _compute_quote_approver_ids(self):
        for order in self:
            approvers = order._quote_get_approvers()
            order.quote_approver_ids = approvers
            order.can_approve_quote = (
                order.approval_state
                in (
                    "required",
                    "pending",
                    "rejected",
                )
                and self.env.user in approvers
            )

    def _quote_get_approvers(self):
        """Users who may approve this quote: their authority covers its largest
        deviation, and they are neither its salesperson, nor the requester, nor
        who set its lower prices. The team leader comes first."""
        self.ensure_one()
        company = self.company_id or self.env.company
        users = self.env["quote.discount.authority"]._get_users_with_authority(
            round(self.max_deviation_percent, 2), company
        )
        users -= (
            self.user_id | self.approval_requested_by_id | self._quote_price_setters()
        )
        leader = self.team_id.user_id
        if leader in users:
            users = leader | (users - leader)
        return users

    def _quote_check_approval_fields(self, vals):
        if APPROVAL_FIELDS & set(vals) and not self.env.su:
            raise AccessError(
                self.env._(
                    "Approval fields are set by the approval buttons only: use "
                    "Request Approval, Approve or Reject on the quote."
                )
            )

    # ------------------------------------------------------------------
    # The gate: send, print, sign, pay, confirm
    # ------------------------------------------------------------------

    def _quote_blocking_approval(self, states=QUOTATION_STATES):
        """Quotes whose prices go beyond their salesperson's authority without a
        covering approval, computed afresh (authorities may have changed).
        Only orders in ``states`` are considered: confirmed orders are past the
        gate, unless they are being created confirmed."""
        blocked = self.browse()
        for order in self:
            if order.state not in states:
                continue
            order.invalidate_recordset(["max_deviation_percent", "approval_state"])
            if order._quote_get_approval_state() in ("required", "pending", "rejected"):
                blocked |= order
        return blocked

    def _quote_check_can_proceed(self, states=QUOTATION_STATES):
        """Raise when a quote cannot go to the customer or be confirmed yet."""
        self.filtered(lambda o: o.state in states).order_line.filtered(
            lambda line: line._is_engine_priced()
        )._quote_check_deviation_reasons()
        blocked = self._quote_blocking_approval(states)
        if not blocked:
            return
        order = blocked[0]
        approvers = order._quote_get_approvers()
        if approvers:
            who = ", ".join(approvers.mapped("name"))
        else:
            who = self.env._(
                "nobody yet: ask an administrator to give a role a discount "
                "authority of at least %(percent)s%%",
                percent=f"{order.max_deviation_percent:.2f}",
            )
        raise UserError(
            self.env._(
                "Quote %(order)s goes %(percent)s%% below the engine price, beyond "
                "the %(authority)s%% that %(salesperson)s may give. It cannot be "
                "sent, printed for the customer, signed, paid or confirmed until its "
                "prices are approved (status: %(status)s). Request approval; it can "
                "be approved by: %(who)s.",
                order=order.name,
                percent=f"{order.max_deviation_percent:.2f}",
                authority=f"{order._quote_salesperson_authority():g}",
                salesperson=order.user_id.name or self.env._("its salesperson"),
                status=dict(
                    order._fields["approval_state"]._description_selection(self.env)
                ).get(order._quote_get_approval_state()),
                who=who,
            )
        )

    def action_quotation_send(self):
        self._quote_check_can_proceed()
        return super().action_quotation_send()

    def action_quotation_sent(self):
        self._quote_check_can_proceed()
        return super().action_quotation_sent()

    def action_confirm(self):
        self._quote_check_can_proceed()
        return super().action_confirm()

    def _has_to_be_signed(self):
        return super()._has_to_be_signed() and not self._quote_blocking_approval()

    def _has_to_be_paid(self):
        return super()._has_to_be_paid() and not self._quote_blocking_approval()

    # ------------------------------------------------------------------
    # Approval actions
    # ------------------------------------------------------------------

    def _quote_deviation_summary_html(self):
        """The deviating lines as an HTML list for the chatter."""
        self.ensure_one()
        items = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(product)s: %(price)s instead of %(engine)s (%(percent)s%%), "
                "%(reason)s",
                product=line.product_id.display_name,
                price=line.currency_id.format(line._get_discounted_price()),
                engine=line.currency_id.format(line.engine_price_unit),
                percent=f"{line.deviation_percent:+.2f}",
                reason=line.deviation_reason_id.name or self.env._("no reason"),
            )
            for line in self.order_line
            if line._is_engine_priced() and line._quote_exceeds_tolerance()
        )
        return Markup("<ul>%s</ul>") % items if items else Markup("")

    def action_request_approval(self):
        for order in self:
            if order.approval_state not in ("required", "rejected"):
                raise UserError(
                    self.env._(
                        "Quote %(order)s does not need an approval request now "
                        "(status: %(status)s).",
                        order=order.name,
                        status=dict(
                            order._fields["approval_state"]._description_selection(
                                self.env
                            )
                        ).get(order.approval_state),
                    )
                )
            order.order_line.filtered(
                lambda line: line._is_engine_priced()
            )._quote_check_deviation_reasons()
            order.check_access("write")
            order._quote_request_approval()
        return True

    def _quote_request_approval(self):
        """Record the request and notify the approvers (after access checks)."""
        self.ensure_one()
        self.sudo().write(
            {
                "approval_request_state": "pending",
                "approval_requested_by_id": self.env.uid,
            }
        )
        approvers = self._quote_get_approvers()
        if not approvers:
            raise UserError(
                self.env._(
                    "Nobody has a discount authority covering %(percent)s%% below "
                    "the engine price. Ask an administrator to set one under Sales > "
                    "Configuration > Quote Process > Discount Authorities, or bring "
                    "the prices closer to the engine price.",
                    percent=f"{self.max_deviation_percent:.2f}",
                )
            )
        # The team leader first; otherwise every user who may approve.
        leader = self.team_id.user_id
        notified = leader if leader in approvers else approvers
        for approver in notified:
            self.sudo().activity_schedule(
                "quote_process.mail_activity_quote_approval",
                user_id=approver.id,
                note=self.env._(
                    "Approve the prices of %(order)s: up to %(percent)s%% below the "
                    "engine price.",
                    order=self.name,
                    percent=f"{self.max_deviation_percent:.2f}",
                ),
            )
        self.message_post(
            body=Markup("%s%s")
            % (
                self.env._(
                    "Approval requested for prices up to %(percent)s%% below the "
                    "engine price (authority of %(salesperson)s: %(authority)s%%). "
                    "Asked of: %(approvers)s.",
                    percent=f"{self.max_deviation_percent:.2f}",
                    salesperson=self.user_id.name or "",
                    authority=f"{self._quote_salesperson_authority():g}",
                    approvers=", ".join(notified.mapped("name")),
                ),
                self._quote_deviation_summary_html(),
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _quote_check_approver(self):
        self.ensure_one()
        if self.env.user in (
            self.user_id | self.approval_requested_by_id | self._quote_price_setters()
        ):
            raise AccessError(
                self.env._(
                    "You cannot approve or reject the prices of %(order)s: nobody "
                    "decides on their own quote or request. Ask %(who)s.",
                    order=self.name,
                    who=", ".join(self._quote_get_approvers().mapped("name"))
                    or self.env._("a sales manager"),
                )
            )
        if self.env.user not in self._quote_get_approvers():
            raise AccessError(
                self.env._(
                    "Your discount authority does not cover the %(percent)s%% below "
                    "the engine price of %(order)s. It can be approved by: %(who)s.",
                    percent=f"{self.max_deviation_percent:.2f}",
                    order=self.name,
                    who=", ".join(self._quote_get_approvers().mapped("name"))
                    or self.env._("nobody yet"),
                )
            )

    def action_approve(self):
        for order in self:
            if order.approval_state not in ("required", "pending", "rejected"):
                raise UserError(
                    self.env._(
                        "Quote %(order)s has nothing to approve.", order=order.name
                    )
                )
            order._quote_check_approver()
            order._quote_approve()
        return True

    def _quote_approve(self):
        self.ensure_one()
        self.sudo().write(
            {
                "approval_request_state": False,
                "approved_by_id": self.env.uid,
                "approved_date": fields.Datetime.now(),
                "approved_deviation_percent": self.max_deviation_percent,
            }
        )
        self._quote_close_approval_activities(
            self.env._("Approved by %(name)s", name=self.env.user.name)
        )
        self.message_post(
            body=Markup("%s%s")
            % (
                self.env._(
                    "Prices approved by %(name)s, up to %(percent)s%% below the "
                    "engine price:",
                    name=self.env.user.name,
                    percent=f"{self.max_deviation_percent:.2f}",
                ),
                self._quote_deviation_summary_html(),
            ),
            subtype_xmlid="mail.mt_note",
        )

    def action_reject(self, reason=None):
        if reason is None and len(self) == 1:
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Reject Prices"),
                "res_model": "quote.approval.reject.wizard",
                "view_mode": "form",
                "target": "new",
                "context": {"default_order_id": self.id},
            }
        if not reason or not reason.strip():
            raise UserError(
                self.env._("Give a reason to reject the prices of a quote.")
            )
        for order in self:
            if order.approval_state not in ("required", "pending"):
                raise UserError(
                    self.env._(
                        "Quote %(order)s has no prices awaiting approval.",
                        order=order.name,
                    )
                )
            order._quote_check_approver()
            order._quote_reject(reason.strip())
        return True

    def _quote_reject(self, reason):
        self.ensure_one()
        self.sudo().write({"approval_request_state": "rejected"})
        self._quote_close_approval_activities(
            self.env._("Rejected by %(name)s", name=self.env.user.name)
        )
        self.message_post(
            body=self.env._(
                "Prices rejected by %(name)s: %(reason)s",
                name=self.env.user.name,
                reason=reason,
            ),
            subtype_xmlid="mail.mt_note",
        )
        if self.user_id:
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=self.user_id.id,
                summary=self.env._("Prices rejected"),
                note=html_escape(reason),
            )

    def _quote_close_approval_activities(self, feedback):
        activity_type = self.env.ref(
            "quote_process.mail_activity_quote_approval", raise_if_not_found=False
        )
        if activity_type:
            self.sudo().activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type
            ).action_feedback(feedback=feedback)

    # Lost quotes
    # ------------------------------------------------------------------
    lost_reason_id = fields.Many2one(
        comodel_name="crm.lost.reason",
        string="Lost Reason",
        index="btree_not_null",
        ondelete="restrict",
        tracking=True,
        copy=False,
        help="Why the customer did not accept this quotation. Set with Mark as "
        "Lost; the same list as CRM's opportunity lost reasons.",
    )
    lost_note = fields.Text(
        string="Lost Note",
        copy=False,
        help="What happened, in the salesperson's words: the competitor's offer, "
        "the customer's answer, anything that helps win the next one.",
    )
    lost_date = fields.Date(
        string="Lost On",
        copy=False,
        tracking=True,
        help="Day the quotation was marked as lost.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            for fname in APPROVAL_COMPUTED_FIELDS:
                vals.pop(fname, None)
            check_client_values(self, vals)
            self._quote_check_approval_fields(vals)
            self._quote_followup_check_system_fields(vals)
        orders = super().create(vals_list)
        # Created sent or confirmed (RPC, import): the same gate as sending and
        # confirming.
        orders.filtered(
            lambda order: order.state in ("sent", "sale")
        )._quote_check_can_proceed(states=("sent", "sale"))
        if not self.env.su:
            orders._quote_process_check_lost_on_create()
        orders._quote_followup_after_create()
        orders._quote_check_conflict_policy()
        return orders

    def write(self, vals):
        if any(fname in vals for fname in APPROVAL_COMPUTED_FIELDS):
            vals = {
                fname: value
                for fname, value in vals.items()
                if fname not in APPROVAL_COMPUTED_FIELDS
            }
        check_client_values(self, vals)
        self._quote_check_approval_fields(vals)
        if vals.get("state") in ("sent", "sale"):
            self._quote_check_can_proceed()
        self._quote_followup_check_system_fields(vals)
        if not self.env.su:
            self._quote_process_check_lost_write(vals)
        restored = self.browse()
        if vals.get("state") and vals["state"] != "cancel":
            restored = self.filtered(lambda order: order._quote_process_is_lost())
        lost_reasons = {order.id: order.lost_reason_id for order in restored}
        followup_changes = self._quote_followup_before_write(vals)
        res = super().write(vals)
        if vals.get("state") == "cancel":
            self._quote_process_date_losses()
        if restored:
            restored._quote_process_clear_loss(lost_reasons)
        self._quote_followup_after_write(followup_changes)
        if {"partner_id", "user_id", "company_id"} & set(vals):
            self._quote_check_conflict_policy()
        return res

    def _action_cancel(self):
        # Refuse before the cancellation touches invoices, pickings or rewards.
        if not self.env.su:
            self._quote_process_check_lost_write({"state": "cancel"})
        return super()._action_cancel()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_mark_lost(self):
        """Open the wizard that marks the quotations as lost with a reason."""
        if not self:
            raise UserError(self.env._("Select the quotations to mark as lost."))
        self._quote_process_check_can_be_lost()
        return {
            "name": self.env._("Mark as Lost"),
            "type": "ir.actions.act_window",
            "res_model": "quote.lost.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_order_ids": [Command.set(self.ids)],
                "dialog_size": "medium",
            },
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _quote_process_is_lost(self):
        """A lost quotation: cancelled and marked lost (it has a lost date)."""
        self.ensure_one()
        return self.state == "cancel" and bool(self.lost_date or self.lost_reason_id)

    def _quote_process_was_sent(self):
        """Whether the customer has received this quotation.

        True when it is in the Sent state, or when it was ever sent (its first
        sending date is known) and has been reset to draft since.
        """
        self.ensure_one()
        if self.state == "sent":
            return True
        return bool("quote_sent_date" in self._fields and self.quote_sent_date)

    def _quote_process_check_can_be_lost(self):
        """Raise unless every order is a quotation that may be marked as lost:
        an open quotation, or a cancelled one whose reason is still missing."""
        not_open = self.filtered(
            lambda order: (
                order.state not in QUOTATION_STATES
                and not (order.state == "cancel" and not order.lost_reason_id)
            )
        )
        if not_open:
            raise UserError(
                self.env._(
                    "Only open quotations can be marked as lost. These are sales "
                    "orders or already lost: %(orders)s. Cancel a confirmed order "
                    "instead, or remove it from the selection.",
                    orders=", ".join(not_open.mapped("name")),
                )
            )

    def _quote_process_check_lost_on_create(self):
        cancelled = self.filtered(
            lambda order: (
                order.state == "cancel"
                and order._quote_process_was_sent()
                and not order.lost_reason_id
            )
        )
        if cancelled:
            raise UserError(
                self.env._(
                    "A quotation sent to the customer cannot be created cancelled "
                    "without a lost reason (%(orders)s). Give a lost reason.",
                    orders=", ".join(cancelled.mapped("name")),
                )
            )

    def _quote_process_check_lost_write(self, vals):
        """Rules of lost quotations that hold for every write (UI, RPC, code)."""
        if not {"state", "lost_reason_id", "lost_date"} & vals.keys():
            return
        state = vals.get("state")
        if state == "cancel" and not vals.get("lost_reason_id"):
            sent = self.filtered(
                lambda order: (
                    order.state in QUOTATION_STATES
                    and not order.lost_reason_id
                    and order._quote_process_was_sent()
                )
            )
            if sent:
                raise UserError(
                    self.env._(
                        "%(orders)s was sent to the customer: cancelling it means "
                        "the quotation is lost, and a lost quotation needs a "
                        "reason. Use Mark as Lost and choose the reason.",
                        orders=", ".join(sent.mapped("name")),
                    )
                )
        lost = self.filtered(lambda order: order._quote_process_is_lost())
        if not lost:
            return
        if state and state != "cancel":
            lost._quote_process_check_can_restore()
            return
        cleared = [
            self._fields[fname].get_description(self.env)["string"]
            for fname in ("lost_reason_id", "lost_date")
            if fname in vals and not vals[fname]
        ]
        if cleared:
            raise UserError(
                self.env._(
                    "%(field)s of the lost quotation %(orders)s cannot be cleared. "
                    "Choose another reason, or set the quotation back to "
                    "quotation to clear the loss.",
                    field=", ".join(cleared),
                    orders=", ".join(lost.mapped("name")),
                )
            )

    def _quote_process_check_can_restore(self):
        """Only the quotation's salesperson or a sales manager restores a loss."""
        if self.env.user.has_group("sales_team.group_sale_manager"):
            return
        others = self.filtered(lambda order: order.user_id != self.env.user)
        if others:
            raise UserError(
                self.env._(
                    "Only the salesperson of a lost quotation or a sales manager "
                    "can set it back to quotation (%(orders)s). Ask %(owners)s or "
                    "a sales manager.",
                    orders=", ".join(others.mapped("name")),
                    owners=", ".join(others.user_id.mapped("name"))
                    or self.env._("a sales manager"),
                )
            )

    def _quote_process_date_losses(self):
        """Date the losses recorded by a cancellation that carried a reason."""
        undated = self.filtered(
            lambda order: (
                order.state == "cancel" and order.lost_reason_id and not order.lost_date
            )
        )
        if not undated:
            return True
        return super(SaleOrder, undated).write(
            {"lost_date": fields.Date.context_today(self)}
        )

    def _quote_process_clear_loss(self, lost_reasons):
        """Clear the loss of quotations set back to quotation, on the chatter."""
        vals = {"lost_reason_id": False, "lost_note": False, "lost_date": False}
        super().write(vals)
        if "customer_response" in self._fields:
            declined = self.filtered(
                lambda order: order.customer_response == "declined"
            )
            super(SaleOrder, declined).write({"customer_response": "pending"})
        for order in self:
            reason = lost_reasons.get(order.id)
            body = Markup("<p>%s</p>") % self.env._(
                "Set back to quotation by %(user)s: the loss (%(reason)s) is cleared.",
                user=self.env.user.name,
                reason=reason.name if reason else self.env._("no reason given"),
            )
            lead = order.opportunity_id
            if lead and lead.has_access("read") and not lead.active:
                body += Markup("<p>%s</p>") % self.env._(
                    "The opportunity %(lead)s is still marked as lost: restore it "
                    "in CRM if the deal is open again.",
                    lead=lead.name,
                )
            order.message_post(body=body)
        return True

    def _quote_process_mark_lost(self, reason, note=False):
        """Mark the quotations as lost with ``reason`` and cancel them.

        Callers check the user's rights first (the wizard does).
        """
        vals = {"lost_reason_id": reason.id, "lost_note": note or False}
        if "customer_response" in self._fields:
            vals["customer_response"] = "declined"
        self.write(vals)
        # A quotation the customer declined online keeps the day of its loss.
        self.filtered(lambda order: not order.lost_date).write(
            {"lost_date": fields.Date.context_today(self)}
        )
        self.filtered(lambda order: order.state != "cancel").action_cancel()
        for order in self:
            body = Markup("<p>%s</p>") % self.env._(
                "Quotation lost: %(reason)s", reason=reason.name
            )
            if note:
                body += plaintext2html(note)
            order.message_post(body=body)
        self.activity_feedback(
            ["quote_process.mail_activity_record_lost_reason"],
            feedback=self.env._("Lost reason: %(reason)s", reason=reason.name),
        )
        self._quote_process_lose_opportunities(reason, note)

    def _quote_process_customer_declined(self):
        """Record the loss of quotations the customer declined online.

        The customer gives no reason from the list: the quotation is dated as
        lost and its salesperson gets an activity to record the reason.
        """
        vals = {"lost_date": fields.Date.context_today(self)}
        if "customer_response" in self._fields:
            vals["customer_response"] = "declined"
        self.write(vals)
        for order in self:
            responsible = order.user_id or order.team_id.user_id
            if not responsible:
                continue
            order.activity_schedule(
                "quote_process.mail_activity_record_lost_reason",
                note=self.env._(
                    "The customer declined this quotation online. Use Mark as "
                    "Lost to record the reason, so that it counts in the quote "
                    "analysis."
                ),
                user_id=responsible.id,
            )
        return True

    def _quote_process_opportunities_to_lose(self):
        """The opportunities of these quotations that have no other open
        quotation or order, are still open, and that the user may update."""
        leads = self.env["crm.lead"]
        for lead in self.opportunity_id:
            if not lead.has_access("write") or not lead.active:
                continue
            if lead.stage_id.is_won:
                continue
            if self._quote_process_lead_has_other_order(lead):
                continue
            leads |= lead
        return leads

    def _quote_process_lead_has_other_order(self, lead):
        """Whether ``lead`` keeps an open quotation or a sales order besides
        these ones. Counted as superuser: the salesperson may not see every
        quotation of the opportunity; only a yes/no leaves this method."""
        return bool(
            self.env["sale.order"]
            .sudo()
            .search_count(
                [
                    ("opportunity_id", "=", lead.id),
                    ("id", "not in", self.ids),
                    ("state", "in", (*QUOTATION_STATES, "sale")),
                ],
                limit=1,
            )
        )

    def _quote_process_lose_opportunities(self, reason, note=False):
        """Mark lost, through CRM's own wizard, the opportunities whose last
        open quotation these were."""
        leads = self._quote_process_opportunities_to_lose()
        skipped = self.opportunity_id.filtered(
            lambda lead: not lead.has_access("write")
        )
        for order in self.filtered(lambda o: o.opportunity_id & skipped):
            order.message_post(
                body=self.env._(
                    "The opportunity of this quotation was not marked as lost: you "
                    "may not update it. Ask its salesperson to mark it lost if the "
                    "deal is over."
                )
            )
        if not leads:
            return
        wizard = self.env["crm.lead.lost"].create(
            {
                "lead_ids": [Command.set(leads.ids)],
                "lost_reason_id": reason.id,
                "lost_feedback": plaintext2html(note) if note else False,
            }
        )
        wizard.action_lost_reason_apply()
        for lead in leads:
            orders = self.filtered(lambda o, lead=lead: o.opportunity_id == lead)
            lead.message_post(
                body=self.env._(
                    "Marked as lost with its last open quotation %(orders)s: "
                    "%(reason)s",
                    orders=", ".join(orders.mapped("name")),
                    reason=reason.name,
                )
            )

    # Follow-up
    # ------------------------------------------------------------------

    # customer responses that still call for a follow-up by the salesperson
    _QUOTE_FOLLOWUP_OPEN_RESPONSES = ("pending", "negotiating")
    # fields kept by Odoo itself: only the system or a sales manager may set them
    _QUOTE_FOLLOWUP_SYSTEM_FIELDS = frozenset(
        {
            "quote_sent_date",
            "last_followup_date",
            "customer_response_date",
            "reminder_count",
            "last_reminder_date",
            "last_escalation_date",
            "quote_preexisting",
        }
    )

    quote_sent_date = fields.Datetime(
        string="Quote Sent On",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="When the quotation was first sent to the customer: by email, marked as "
        "sent, or through the customer portal. Set once; sending again does not "
        "change it.",
    )
    response_deadline = fields.Date(
        string="Response Deadline",
        copy=False,
        tracking=True,
        help="Date by which the customer is expected to answer: the day the quotation "
        "was first sent plus the company's response days. Move it when the "
        "customer asks for more time.",
    )
    last_followup_date = fields.Datetime(
        string="Last Follow-up",
        readonly=True,
        copy=False,
        help="Last time a person acted on the sent quotation: its first sending, a "
        "message or a note, an activity marked as done, a change of the customer "
        "response, or a reply from the customer. Automatic messages (tracking, "
        "reminders, approvals, system notes) do not count.",
    )
    customer_response = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("negotiating", "Negotiating"),
            ("accepted", "Accepted"),
            ("declined", "Declined"),
        ],
        string="Customer Response",
        copy=False,
        tracking=True,
        index=True,
        help="What the customer answered to the quotation. Pending when it is first "
        "sent; record the answer with the Record Response button. A confirmed "
        "or signed quotation counts as accepted.",
    )
    customer_response_date = fields.Datetime(
        string="Customer Responded On",
        readonly=True,
        copy=False,
        help="When the customer first gave a response other than pending.",
    )
    reminder_count = fields.Integer(
        string="Reminders Sent",
        readonly=True,
        copy=False,
        default=0,
        help="How many times the salesperson (or the team leader) was reminded that "
        "this quotation had no follow-up.",
    )
    last_reminder_date = fields.Datetime(
        string="Last Reminder",
        readonly=True,
        copy=False,
        help="When the last follow-up reminder about this quotation was queued.",
    )
    last_escalation_date = fields.Datetime(
        string="Escalated On",
        readonly=True,
        copy=False,
        help="When the sales team leader was last told that this quotation had no "
        "follow-up.",
    )
    quote_preexisting = fields.Boolean(
        string="Sent Before Installation",
        readonly=True,
        copy=False,
        help="The quotation was already sent when Quote Process was installed. Such "
        "quotations get no reminder unless the company setting 'Remind quotes "
        "sent before installation' is on, or until someone follows them up.",
    )
    days_silent = fields.Integer(
        string="Days Without Follow-up",
        compute="_compute_quote_followup_status",
        help="Days since the last follow-up (or since the quotation was sent), "
        "counted in the salesperson's time zone.",
    )
    followup_overdue = fields.Boolean(
        string="Follow-up Overdue",
        compute="_compute_quote_followup_status",
        search="_search_followup_overdue",
        help="The sent quotation still awaits an answer and nobody has followed it "
        "up for at least the company's follow-up days.",
    )
    response_deadline_passed = fields.Boolean(
        string="Response Deadline Passed",
        compute="_compute_quote_followup_status",
        search="_search_response_deadline_passed",
        help="The customer has not answered the sent quotation and its response "
        "deadline is over.",
    )

    _quote_followup_open_idx = models.Index(
        "(company_id, last_followup_date) WHERE state = 'sent' "
        "AND customer_response IN ('pending', 'negotiating')"
    )

    # -- computes and searches -------------------------------------------

    @api.depends(
        "state",
        "quote_sent_date",
        "last_followup_date",
        "customer_response",
        "response_deadline",
        "user_id",
        "team_id",
        "company_id",
    )
    def _compute_quote_followup_status(self):
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        for order in self:
            if order.state != "sent" or not order.quote_sent_date:
                order.days_silent = 0
                order.followup_overdue = False
                order.response_deadline_passed = False
                continue
            tz = order._quote_followup_tz()
            days = order._quote_followup_days_between(
                order._quote_followup_anchor(), now, tz
            )
            is_open = order.customer_response in self._QUOTE_FOLLOWUP_OPEN_RESPONSES
            order.days_silent = days
            order.followup_overdue = (
                is_open and days >= order.company_id.quote_followup_days
            )
            order.response_deadline_passed = bool(
                order.customer_response == "pending"
                and order.response_deadline
                and order.response_deadline < today
            )

    def _quote_followup_positive_search(self, operator, value):
        """Tell whether a boolean search asks for True (positive) or False."""
        if operator not in ("in", "not in"):
            return None
        values = {bool(v) for v in value}
        if len(values) != 1:
            return None
        positive = values == {True}
        return positive if operator == "in" else not positive

    def _search_followup_overdue(self, operator, value):
        positive = self._quote_followup_positive_search(operator, value)
        if positive is None:
            return NotImplemented
        tz = self._quote_followup_user_tz()
        today = fields.Datetime.now().replace(tzinfo=pytz.utc).astimezone(tz).date()
        company_domains = []
        for company in self.env.companies:
            # silent for N days or more <=> last action before the start of the
            # local day N - 1 days ago
            boundary_day = today - timedelta(days=company.quote_followup_days - 1)
            boundary = (
                tz.localize(datetime.combine(boundary_day, time.min))
                .astimezone(pytz.utc)
                .replace(tzinfo=None)
            )
            company_domains.append(
                Domain("company_id", "=", company.id)
                & (
                    Domain("last_followup_date", "<", boundary)
                    | (
                        Domain("last_followup_date", "=", False)
                        & Domain("quote_sent_date", "<", boundary)
                    )
                )
            )
        domain = (
            Domain("state", "=", "sent")
            & Domain("quote_sent_date", "!=", False)
            & Domain("customer_response", "in", self._QUOTE_FOLLOWUP_OPEN_RESPONSES)
            & Domain.OR(company_domains)
        )
        return domain if positive else ~domain

    def _search_response_deadline_passed(self, operator, value):
        positive = self._quote_followup_positive_search(operator, value)
        if positive is None:
            return NotImplemented
        domain = Domain(
            [
                ("state", "=", "sent"),
                ("customer_response", "=", "pending"),
                ("response_deadline", "<", fields.Date.context_today(self)),
            ]
        )
        return domain if positive else ~domain

    # -- time helpers ------------------------------------------------------

    def _quote_followup_recipient(self):
        """Who hears about this quote's silence: its salesperson, or the sales
        team leader when the salesperson is archived or missing."""
        self.ensure_one()
        if self.user_id and self.user_id.active:
            return self.user_id
        leader = self.team_id.user_id
        return leader if leader and leader.active else self.env["res.users"]

    def _quote_followup_tz(self):
        """Time zone the days of this quote are counted in: its salesperson's
        (or the team leader's when reminders go to them), else the company's."""
        self.ensure_one()
        recipient = self._quote_followup_recipient()
        for tz_name in (
            recipient.tz,
            self.user_id.tz,
            self.company_id.partner_id.tz,
        ):
            if tz_name:
                try:
                    return pytz.timezone(tz_name)
                except pytz.UnknownTimeZoneError:
                    continue
        return pytz.utc

    def _quote_followup_user_tz(self):
        tz_name = self.env.context.get("tz") or self.env.user.tz
        try:
            return pytz.timezone(tz_name) if tz_name else pytz.utc
        except pytz.UnknownTimeZoneError:
            return pytz.utc

    @api.model
    def _quote_followup_local_date(self, dt, tz):
        return pytz.utc.localize(dt).astimezone(tz).date()

    @api.model
    def _quote_followup_days_between(self, start, end, tz):
        """Calendar days from ``start`` to ``end`` (UTC datetimes) in ``tz``."""
        if not start:
            return 0
        return (
            self._quote_followup_local_date(end, tz)
            - self._quote_followup_local_date(start, tz)
        ).days

    def _quote_followup_anchor(self):
        """Start of the current silence: the last follow-up, else the sending."""
        self.ensure_one()
        return self.last_followup_date or self.quote_sent_date

    def _get_quote_followup_url(self):
        """Link to the quotation in the back end, for the reminder emails."""
        self.ensure_one()
        return f"{self.get_base_url()}/odoo/sales/{self.id}"

    # -- what moves the follow-up -------------------------------------------

    def _quote_followup_check_system_fields(self, vals):
        """Follow-up dates and counters are kept by Odoo: a salesperson cannot
        set them over RPC or import to silence the reminders."""
        touched = self._QUOTE_FOLLOWUP_SYSTEM_FIELDS.intersection(vals)
        if (
            touched
            and not self.env.su
            and not self.env.user.has_group("sales_team.group_sale_manager")
        ):
            raise AccessError(
                self.env._(
                    "Odoo keeps the follow-up fields of quotations (%(fields)s) "
                    "itself. Post a message, mark an activity done or record the "
                    "customer response instead, or ask a sales manager to correct "
                    "them.",
                    fields=", ".join(
                        self._fields[name].get_description(self.env)["string"]
                        for name in sorted(touched)
                    ),
                )
            )

    def _quote_followup_after_create(self):
        sent = self.filtered(lambda o: o.state == "sent" and not o.quote_sent_date)
        if sent:
            sent._quote_followup_mark_sent()
        answered = self.filtered(
            lambda o: (
                o.customer_response not in (False, "pending")
                and not o.customer_response_date
            )
        )
        if answered:
            answered._quote_followup_response_changed()

    def _quote_followup_before_write(self, vals):
        """The quotes whose follow-up a write changes, found before it."""
        newly_sent = accepted = response_changed = self.browse()
        if vals.get("state") == "sent":
            newly_sent = self.filtered(lambda o: not o.quote_sent_date)
        if "customer_response" in vals:
            response_changed = self.filtered(
                lambda o: o.customer_response != vals["customer_response"]
            )
        elif vals.get("state") == "sale" or vals.get("signature"):
            # a confirmed or signed quotation is the customer's acceptance
            accepted = self.filtered(
                lambda o: (
                    o.quote_sent_date
                    and o.customer_response in self._QUOTE_FOLLOWUP_OPEN_RESPONSES
                )
            )
        return newly_sent, response_changed, accepted

    def _quote_followup_after_write(self, changes):
        newly_sent, response_changed, accepted = changes
        if newly_sent:
            newly_sent._quote_followup_mark_sent()
        if response_changed:
            response_changed._quote_followup_response_changed()
        if accepted:
            accepted.sudo().write({"customer_response": "accepted"})

    def _quote_followup_mark_sent(self):
        """First sending: record the date, the response deadline, and await the
        customer's response. Called after the sending itself was allowed."""
        now = fields.Datetime.now()
        for order in self:
            tz = order._quote_followup_tz()
            vals = {"quote_sent_date": now, "last_followup_date": now}
            if not order.response_deadline:
                vals["response_deadline"] = self._quote_followup_local_date(
                    now, tz
                ) + timedelta(days=order.company_id.quote_response_days)
            if not order.customer_response:
                vals["customer_response"] = "pending"
            order.sudo().write(vals)

    def _quote_followup_response_changed(self):
        """The customer response changed: a follow-up, and the first answer
        other than pending is the customer's response date."""
        now = fields.Datetime.now()
        first_answers = self.filtered(
            lambda o: (
                o.customer_response
                and o.customer_response != "pending"
                and not o.customer_response_date
            )
        )
        if first_answers:
            first_answers.sudo().write({"customer_response_date": now})
        self._quote_followup_touch()

    def _quote_followup_touch(self):
        """A person acted on these quotations: their silence ends now.

        Callers have already been allowed to act on the records (post on
        them, close their activity, write them)."""
        orders = self.filtered(lambda o: o.quote_sent_date and o.state == "sent")
        if orders:
            orders.sudo().write(
                {
                    "last_followup_date": fields.Datetime.now(),
                    "quote_preexisting": False,
                }
            )

    def _quote_followup_counts_message(self, message, msg_values):
        """Whether a posted message is a human follow-up.

        Counts: a message or a note written by a person (chatter, portal,
        email composer), an incoming email, an activity marked as done by a
        person. Never counts: system notifications (tracking, approvals, state
        changes), automated targeted notifications, out-of-office replies, and
        anything authored by OdooBot (scheduled actions, automation)."""
        message_type = msg_values.get("message_type") or message.message_type
        author_id = msg_values.get("author_id", message.author_id.id)
        root_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "base.partner_root", raise_if_not_found=False
        )
        if author_id and author_id == root_id:
            return False
        if message_type in ("comment", "email"):
            return True
        activities_subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "mail.mt_activities", raise_if_not_found=False
        )
        approval_type_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "quote_process.mail_activity_quote_approval", raise_if_not_found=False
        )
        return bool(
            message_type == "notification"
            and author_id
            and msg_values.get("mail_activity_type_id")
            and msg_values.get("mail_activity_type_id") != approval_type_id
            and msg_values.get("subtype_id") == activities_subtype_id
        )

    def _message_post_after_hook(self, message, msg_values):
        res = super()._message_post_after_hook(message, msg_values)
        if self._quote_followup_counts_message(message, msg_values):
            self._quote_followup_touch()
        return res

    # -- customer response -------------------------------------------------

    def action_record_customer_response(self):
        """Open the dialog recording the customer's answer to the quotation."""
        self.check_access("write")
        return {
            "name": self.env._("Record Customer Response"),
            "type": "ir.actions.act_window",
            "res_model": "quote.response.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_order_ids": self.ids},
        }

    # -- installation --------------------------------------------------------

    @api.model
    def _quote_followup_init_preexisting(self):
        """On installation, give the quotations already sent a sent date, a
        deadline and a pending response, and flag them as pre-existing so that
        the reminder does not flood their salespeople."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE sale_order so
               SET quote_sent_date = so.date_order,
                   last_followup_date = so.date_order,
                   response_deadline = so.date_order::date
                                       + COALESCE(c.quote_response_days, 0),
                   customer_response = COALESCE(so.customer_response, 'pending'),
                   quote_preexisting = TRUE
              FROM res_company c
             WHERE c.id = so.company_id
               AND so.state = 'sent'
               AND so.quote_sent_date IS NULL
            """
        )
        _logger.info(
            "Follow-up: %s quotations sent before installation", self.env.cr.rowcount
        )
        # their last human message, if any, is their last follow-up
        self.env.cr.execute(
            """
            UPDATE sale_order so
               SET last_followup_date = msg.last_date
              FROM (
                    SELECT m.res_id, MAX(m.date) AS last_date
                      FROM mail_message m
                     WHERE m.model = 'sale.order'
                       AND m.message_type IN ('comment', 'email')
                       AND m.author_id IS DISTINCT FROM %s
                       AND m.res_id IN (SELECT id FROM sale_order WHERE quote_preexisting)
                  GROUP BY m.res_id
                   ) msg
             WHERE msg.res_id = so.id
               AND msg.last_date > so.last_followup_date
            """,
            [self.env.ref("base.partner_root").id],
        )
        self.invalidate_model()

    # -- scheduled reminder --------------------------------------------------

    def _quote_followup_candidate_domain(self, now):
        """Quotations that may need a reminder or an escalation at ``now``.

        Broad on purpose by one day (time zones): the exact check, in each
        salesperson's time zone, is ``_quote_followup_due``."""
        company_domains = []
        for company in self.env["res.company"].search([]):
            cutoff = now - timedelta(days=company.quote_followup_days - 1, hours=-2)
            domain = Domain("company_id", "=", company.id) & (
                Domain("last_followup_date", "<=", cutoff)
                | (
                    Domain("last_followup_date", "=", False)
                    & Domain("quote_sent_date", "<=", cutoff)
                )
            )
            if not company.quote_remind_preexisting:
                domain &= Domain("quote_preexisting", "=", False)
            company_domains.append(domain)
        if not company_domains:
            return Domain.FALSE
        domain = (
            Domain("state", "=", "sent")
            & Domain("quote_sent_date", "!=", False)
            & Domain("customer_response", "in", self._QUOTE_FOLLOWUP_OPEN_RESPONSES)
            & Domain.OR(company_domains)
        )
        if "lost_reason_id" in self._fields:
            domain &= Domain("lost_reason_id", "=", False)
        return domain

    def _quote_followup_due(self, now):
        """Split these quotations by what is due at ``now``.

        :return: (remind, remind_leader, escalate) recordsets: quotations whose
            salesperson is reminded, whose team leader is reminded directly
            (archived or missing salesperson), whose team leader is told after
            the escalation days."""
        remind = remind_leader = escalate = self.browse()
        orphans = []
        for order in self:
            if (
                order.state != "sent"
                or not order.quote_sent_date
                or order.customer_response not in self._QUOTE_FOLLOWUP_OPEN_RESPONSES
                or (
                    order.quote_preexisting
                    and not order.company_id.quote_remind_preexisting
                )
                or ("lost_reason_id" in order._fields and order.lost_reason_id)
            ):
                continue
            company = order.company_id
            tz = order._quote_followup_tz()
            anchor = order._quote_followup_anchor()
            reminded = order.last_reminder_date and order.last_reminder_date >= anchor
            if not reminded:
                if (
                    self._quote_followup_days_between(anchor, now, tz)
                    < company.quote_followup_days
                ):
                    continue
                owner_active = order.user_id and order.user_id.active
                if owner_active:
                    remind |= order
                elif order._quote_followup_recipient():
                    remind_leader |= order
                else:
                    orphans.append(order.name)
                continue
            escalated = (
                order.last_escalation_date and order.last_escalation_date >= anchor
            )
            if escalated or (
                self._quote_followup_days_between(order.last_reminder_date, now, tz)
                < company.quote_escalation_days
            ):
                continue
            leader = order.team_id.user_id
            if leader and leader.active:
                escalate |= order
        if orphans:
            _logger.warning(
                "Follow-up: no active salesperson nor sales team leader to remind "
                "about %s quotation(s): %s",
                len(orphans),
                ", ".join(orphans[:20]),
            )
        return remind, remind_leader, escalate

    def _quote_followup_send(self, now):
        """Queue the reminders and escalations due on these (locked)
        quotations, and record them in the same transaction.

        :return: number of quotations reminded or escalated"""
        remind, remind_leader, escalate = self._quote_followup_due(now)
        if not (remind or remind_leader or escalate):
            return 0
        if remind:
            self.env.ref(
                "quote_process.mail_template_quote_followup_reminder"
            ).send_mail_batch(remind.ids, force_send=False)
        to_leader = remind_leader | escalate
        if to_leader:
            self.env.ref(
                "quote_process.mail_template_quote_followup_escalation"
            ).send_mail_batch(to_leader.ids, force_send=False)
        (remind | remind_leader)._quote_followup_schedule_activities(now)
        for order in remind | remind_leader:
            order.write(
                {
                    "reminder_count": order.reminder_count + 1,
                    "last_reminder_date": now,
                }
            )
        if to_leader:
            to_leader.write({"last_escalation_date": now})
        return len(remind | remind_leader | escalate)

    def _quote_followup_schedule_activities(self, now):
        """A To-Do for whoever is reminded, unless one from an earlier reminder
        is still open on the quotation for them."""
        todo = self.env.ref("mail.mail_activity_data_todo")
        recipients = {order: order._quote_followup_recipient() for order in self}
        existing = {
            (activity.res_id, activity.user_id.id)
            for activity in self.env["mail.activity"].search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("activity_type_id", "=", todo.id),
                    ("automated", "=", True),
                ]
            )
        }
        model_id = self.env["ir.model"]._get_id(self._name)
        vals_list = []
        for order, user in recipients.items():
            if not user or (order.id, user.id) in existing:
                continue
            tz = order._quote_followup_tz()
            order_lang = order.with_context(lang=user.lang or self.env.lang)
            days = self._quote_followup_days_between(
                order._quote_followup_anchor(), now, tz
            )
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": order.id,
                    "activity_type_id": todo.id,
                    "user_id": user.id,
                    "automated": True,
                    "date_deadline": self._quote_followup_local_date(now, tz),
                    "summary": order_lang.env._("Follow up with the customer"),
                    "note": Markup("<p>%s</p>")
                    % order_lang.env._(
                        "No follow-up on this quotation for %(days)s days. Contact "
                        "%(customer)s, then record their response.",
                        days=days,
                        customer=order.partner_id.display_name,
                    ),
                }
            )
        if vals_list:
            self.env["mail.activity"].with_context(
                mail_activity_quick_update=True
            ).create(vals_list)

    def _quote_followup_process_batch(self, now):
        """Remind on a batch of locked quotations; one failing quotation does
        not stop the others and is not recorded as reminded.

        :return: number of quotations reminded or escalated"""
        try:
            with self.env.cr.savepoint():
                return self._quote_followup_send(now)
        except Exception:  # retried one by one below
            _logger.info(
                "Follow-up: batch of %s quotations failed, retrying one by one",
                len(self),
            )
        done = 0
        for order_id in self.ids:
            order = self.browse(order_id)
            try:
                with self.env.cr.savepoint():
                    done += order._quote_followup_send(now)
            except Exception:  # one quotation must not stop the others
                _logger.exception(
                    "Follow-up: could not remind about quotation id %s; it will be "
                    "retried on the next run",
                    order_id,
                )
        return done

    @api.model
    def _cron_remind_overdue_quotes(self, batch_size=None):
        """Scheduled action: remind salespeople of the sent quotations nobody
        followed up, then their team leader.

        Each reminder goes out once per silence: it is recorded in the same
        transaction as its queued email, on rows locked against concurrent
        runs, batch after batch."""
        orders_sudo = self.sudo()
        if not batch_size:
            batch_size = int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("quote_process.followup_batch_size", 100)
            )
        now = fields.Datetime.now()
        ids = orders_sudo.search(
            orders_sudo._quote_followup_candidate_domain(now), order="id"
        ).ids
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(ids))
        reminded = 0
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            # the lock is the first statement of a fresh transaction: rows another
            # run holds are skipped, rows it committed are seen as reminded
            locked = orders_sudo.browse(chunk).try_lock_for_update(
                allow_referencing=True
            )
            self.env.invalidate_all()
            if locked:
                reminded += locked._quote_followup_process_batch(now)
            time_left = cron._commit_progress(
                len(chunk), remaining=len(ids) - start - len(chunk)
            )
            if not time_left:
                break
        _logger.info("Follow-up: %s quotations reminded or escalated", reminded)
        return reminded

    # ------------------------------------------------------------------
    # Pricing engine
    # ------------------------------------------------------------------

    def action_reset_to_engine_price(self):
        """Set every line the engine prices back to the engine price, computed
        with the current rules, without discount; noted in the chatter."""
        not_quotes = self.filtered(lambda order: order.state not in ("draft", "sent"))
        if not_quotes:
            raise UserError(
                self.env._(
                    "Only quotations can be reset to the engine prices, and %(orders)s "
                    "is no longer one. Change the prices line by line, or create a "
                    "new quotation.",
                    orders=", ".join(not_quotes.mapped("display_name")),
                )
            )
        for order in self:
            lines = order.order_line.filtered(lambda line: line._is_engine_priced())
            if not lines:
                continue
            lines._recompute_engine_price()
            changes = []
            for line in lines:
                currency = line.currency_id
                price = line.engine_price_unit
                if (
                    not currency.compare_amounts(line.price_unit, price)
                    and not line.discount
                ):
                    continue
                changes.append(
                    Markup("<li>%s</li>")
                    % self.env._(
                        "%(product)s: %(old)s → %(new)s",
                        product=line.product_id.display_name,
                        old=line._get_engine_reset_description(),
                        new=format_amount(self.env, price, currency),
                    )
                )
                line.write(
                    {
                        "price_unit": price,
                        "technical_price_unit": price,
                        "discount": 0.0,
                    }
                )
            if changes:
                body = Markup("%s<ul>%s</ul>") % (
                    self.env._("Prices reset to the engine price:"),
                    Markup().join(changes),
                )
            else:
                body = self.env._("All lines were already at the engine price.")
            order.message_post(body=body)
        return True

    # ------------------------------------------------------------------
    # Promises and offers
    # ------------------------------------------------------------------

    @api.depends("opportunity_id")
    def _compute_payment_term_id(self):
        """New quotes of a customer get the payment terms promised to it."""
        res = super()._compute_payment_term_id()
        quotes = self.filtered(lambda order: order.state in QUOTATION_STATES)
        if not quotes.partner_id:
            return res
        terms = quotes._quote_promised_payment_terms()
        for order in quotes:
            term = terms.get(order)
            if term:
                order.payment_term_id = term
        return res

    def _quote_promised_payment_terms(self):
        """{order: the payment terms promised to its customer}, most recent
        promise first."""
        promises = (
            self.env["quote.promise"]
            .sudo()
            .search(
                Domain("promise_type", "=", "payment_terms")
                & Domain("state", "=", "active")
                & Domain("company_id", "in", self.company_id.ids)
                & (
                    Domain(
                        "partner_id",
                        "in",
                        self.partner_id.commercial_partner_id.ids,
                    )
                    | Domain("lead_id", "in", self.opportunity_id.ids)
                ),
                order="date_start desc, id desc",
            )
        )
        terms = {}
        for order in self:
            date = fields.Date.context_today(self, order.date_order or None)
            for promise in promises:
                if (
                    promise.company_id == order.company_id
                    and (
                        promise.partner_id == order.partner_id.commercial_partner_id
                        or (
                            promise.lead_id
                            and promise.lead_id == order.opportunity_id._origin
                        )
                    )
                    and promise.date_start <= date
                    and (not promise.date_end or promise.date_end >= date)
                ):
                    terms[order] = promise.payment_term_id
                    break
        return terms

    def _get_quote_offers(self):
        """The offers and terms this quote's customer is eligible for: its active
        promises, and the pricing rules shown to customers whose conditions on the
        customer hold for it (customer, tags, pricelist, team, dates) and that
        concern the quote's products. Used by the quote document, the quotation
        email and the customer portal.

        :return: list of dicts with ``name``, ``description``, ``date_start``,
            ``date_end``, ``kind`` (``promise`` or ``rule``)
        """
        self.ensure_one()
        # The customer-facing documents read the offers for the customer: the
        # caller's access to the quote itself is checked, then the offers are
        # read whatever the reader's rights on promises and rules.
        self.check_access("read")
        order = self.sudo()
        company = order.company_id
        partner = order.partner_id.commercial_partner_id
        if not partner:
            return []
        date = fields.Date.context_today(order, order.date_order or None)
        offers = []
        promises = (
            self.env["quote.promise"]
            .sudo()
            .search(
                Domain("company_id", "=", company.id)
                & Domain("state", "=", "active")
                & Domain("date_start", "<=", date)
                & (Domain("date_end", "=", False) | Domain("date_end", ">=", date))
                & (
                    Domain("partner_id", "=", partner.id)
                    | (
                        Domain("lead_id", "=", order.opportunity_id.id)
                        if order.opportunity_id
                        else Domain.FALSE
                    )
                ),
                order="date_start, id",
            )
        )
        for promise in promises:
            offers.append(
                {
                    "kind": "promise",
                    "name": promise.name,
                    "description": promise._get_customer_text(),
                    "date_start": promise.date_start,
                    "date_end": promise.date_end,
                }
            )
        rules = (
            self.env["quote.pricing.rule"]
            .sudo()
            .search(
                Domain("company_id", "=", company.id)
                & Domain("customer_visible", "=", True)
            )
        )
        if rules:
            products = order.order_line.filtered(
                lambda line: line._is_engine_priced()
            ).product_id
            categ_ids = {
                int(categ_id)
                for categ in products.categ_id
                for categ_id in (categ.parent_path or "").split("/")
                if categ_id
            }
            tag_ids = set((order.partner_id.category_id | partner.category_id).ids)
            for rule in rules:
                if not (
                    (
                        not rule.partner_id
                        or rule.partner_id.commercial_partner_id == partner
                    )
                    and (
                        not rule.partner_category_ids
                        or tag_ids & set(rule.partner_category_ids.ids)
                    )
                    and (
                        not rule.pricelist_id or rule.pricelist_id == order.pricelist_id
                    )
                    and (not rule.team_id or rule.team_id == order.team_id)
                    and (not rule.date_start or rule.date_start <= date)
                    and (not rule.date_end or rule.date_end >= date)
                    and (not rule.product_id or rule.product_id in products)
                    and (
                        not rule.product_tmpl_id
                        or rule.product_tmpl_id in products.product_tmpl_id
                    )
                    and (not rule.categ_id or rule.categ_id.id in categ_ids)
                ):
                    continue
                offers.append(
                    {
                        "kind": "rule",
                        "name": rule.name,
                        "description": rule.customer_description or rule.summary,
                        "date_start": rule.date_start,
                        "date_end": rule.date_end,
                    }
                )
        return offers

    # ------------------------------------------------------------------
    # One customer, one price
    # ------------------------------------------------------------------

    conflicting_order_ids = fields.Many2many(
        comodel_name="sale.order",
        string="Competing Quotes",
        compute="_compute_conflicting_order_ids",
        compute_sudo=True,
        help="Other salespeople's open quotations for the same customer (its "
        "company, contacts and addresses).",
    )
    quote_conflict_message = fields.Text(
        string="Competing Quotes Warning",
        compute="_compute_conflicting_order_ids",
        compute_sudo=True,
        help="The other salespeople's open quotations for this customer, with "
        "their owners and amounts.",
    )

    @api.depends("partner_id", "user_id", "company_id", "state")
    @api.depends_context("lang")
    def _compute_conflicting_order_ids(self):
        quotes = self.filtered(
            lambda order: order.partner_id and order.state in QUOTATION_STATES
        )
        (self - quotes).conflicting_order_ids = False
        (self - quotes).quote_conflict_message = False
        if not quotes:
            return
        partners = quotes.partner_id.commercial_partner_id
        others = self.search_fetch(
            Domain("partner_id.commercial_partner_id", "in", partners.ids)
            & Domain("company_id", "in", quotes.company_id.ids)
            & Domain("state", "in", list(QUOTATION_STATES))
            & Domain("user_id", "!=", False),
            ["name", "partner_id", "user_id", "company_id", "amount_total"],
        )
        for order in quotes:
            conflicts = others.filtered(
                lambda other, order=order: (
                    other != order._origin
                    and other.company_id == order.company_id
                    and other.user_id != order.user_id
                    and other.partner_id.commercial_partner_id
                    == order.partner_id.commercial_partner_id
                )
            )
            order.conflicting_order_ids = conflicts
            order.quote_conflict_message = (
                self.env._(
                    "%(customer)s already has open quotations from other "
                    "salespeople: %(quotes)s. Agree on one price with them before "
                    "sending this one.",
                    customer=order.partner_id.commercial_partner_id.name,
                    quotes="; ".join(
                        self.env._(
                            "%(name)s by %(user)s, %(amount)s",
                            name=other.name,
                            user=other.user_id.name,
                            amount=format_amount(
                                self.env, other.amount_total, other.currency_id
                            ),
                        )
                        for other in conflicts
                    ),
                )
                if conflicts
                else False
            )

    def _quote_conflict_lock_key(self):
        """A 64-bit key for the advisory lock of (company, commercial partner)."""
        self.ensure_one()
        digest = hashlib.sha256(
            f"quote_process.conflict:{self.company_id.id}:"
            f"{self.partner_id.commercial_partner_id.id}".encode()
        ).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def _quote_check_conflict_policy(self):
        """With the Block policy, a salesperson cannot have an open quotation for
        a customer who has another salesperson's open quotation; sales managers
        can. Quotes created at the same moment in two transactions are
        serialised by a transaction-level lock on (company, customer)."""
        if self.env.su or self.env.user.has_group("sales_team.group_sale_manager"):
            return
        quotes = self.filtered(
            lambda order: (
                order.state in QUOTATION_STATES
                and order.partner_id
                and order.user_id
                and order.company_id.quote_conflict_policy == "block"
            )
        )
        if not quotes:
            return
        keys = sorted({order._quote_conflict_lock_key() for order in quotes})
        for key in keys:
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", key))
        for order in quotes:
            conflict = order._quote_find_blocking_conflict()
            if conflict:
                raise UserError(
                    self.env._(
                        "%(customer)s already has the open quotation %(quote)s of "
                        "%(user)s, and your company allows one salesperson per "
                        "customer. Ask %(user)s or a sales manager to add your "
                        "products to that quotation, or to cancel it first.",
                        customer=order.partner_id.commercial_partner_id.name,
                        quote=conflict[1],
                        user=conflict[2],
                    )
                )

    def _quote_find_blocking_conflict(self):
        """(id, name, salesperson name) of another salesperson's open quotation
        for the same customer, or None. Read both in this transaction (its own
        uncommitted quotes) and in a fresh one: with the lock held, a fresh
        snapshot sees the quotes that concurrent transactions committed while
        this one was waiting."""
        self.ensure_one()
        query = SQL(
            """
            SELECT so.id, so.name, p.name
              FROM sale_order so
              JOIN res_partner cp ON cp.id = so.partner_id
              JOIN res_users u ON u.id = so.user_id
              JOIN res_partner p ON p.id = u.partner_id
             WHERE cp.commercial_partner_id = %(partner)s
               AND so.company_id = %(company)s
               AND so.state IN ('draft', 'sent')
               AND so.user_id IS NOT NULL
               AND so.user_id != %(user)s
               AND so.id != %(order)s
             ORDER BY so.id
             LIMIT 1
            """,
            partner=self.partner_id.commercial_partner_id.id,
            company=self.company_id.id,
            user=self.user_id.id,
            order=self.id,
        )
        self.env.flush_all()
        self.env.cr.execute(query)
        row = self.env.cr.fetchone()
        if row:
            return row
        with self.env.registry.cursor() as fresh_cr:
            fresh_cr.execute(query)
            return fresh_cr.fetchone()

    def _quote_render_offers_email(self):
        """The offers section of the quotation email, or an empty string."""
        self.ensure_one()
        offers = self._get_quote_offers()
        if not offers:
            return Markup("")
        order = self.with_context(lang=self.partner_id.lang or self.env.lang)
        return order.env["ir.qweb"]._render(
            "quote_process.quote_offers_email",
            {"doc": order, "offers": offers, "format_date": order._quote_format_date},
        )

    def _quote_format_date(self, date):
        return format_date(self.env, date) if date else ""

    # Demo data: quotations in every state of the process
    # ------------------------------------------------------------------

    @api.model
    def _quote_process_demo_story(self):
        """Create the demo quotations, each step done by the user who would do
        it in real life (so every rule of the process applies). Called once by
        demo/quote_process_demo.xml; does nothing without Odoo's demo users."""
        salesman = self.env.ref("base.user_demo", raise_if_not_found=False)
        manager = self.env.ref("base.user_admin", raise_if_not_found=False)
        if not (salesman and manager) or not self.env.ref(
            "quote_process.demo_partner_lotus", raise_if_not_found=False
        ):
            return False

        def ref(xmlid):
            return self.env.ref(xmlid)

        today = fields.Date.context_today(self)
        now = fields.Datetime.now()

        def quote(partner, lines, user=salesman, days_ago=0, lead=None, **vals):
            order = (
                self.with_user(user)
                .with_context(mail_create_nosubscribe=True)
                .create(
                    {
                        "partner_id": ref(partner).id,
                        "user_id": user.id,
                        "opportunity_id": ref(lead).id if lead else False,
                        "date_order": now - timedelta(days=days_ago),
                        "order_line": [
                            Command.create(
                                {"product_id": ref(product).id, "product_uom_qty": qty}
                            )
                            for product, qty in lines
                        ],
                        **vals,
                    }
                )
            )
            return order

        def deviate(order, percent, reason, note):
            line = order.order_line[:1]
            price = line.engine_price_unit * (1 - percent / 100.0)
            price = order.currency_id.round(price)
            line.with_user(order.user_id).write(
                {
                    "price_unit": price,
                    "technical_price_unit": price,
                    "deviation_reason_id": ref(reason).id,
                    "deviation_note": note,
                }
            )

        def approve(order):
            order.with_user(order.user_id).action_request_approval()
            order.with_user(manager).action_approve()

        def send(order, days_ago=0, response=None):
            order.with_user(order.user_id).action_quotation_sent()
            if days_ago:
                sent = now - timedelta(days=days_ago)
                order.sudo().write(
                    {
                        "quote_sent_date": sent,
                        "last_followup_date": sent,
                        "response_deadline": (today - timedelta(days=days_ago))
                        + timedelta(days=order.company_id.quote_response_days),
                    }
                )
            if response:
                order.with_user(order.user_id).write({"customer_response": response})

        def lose(order, reason, note):
            action = order.with_user(order.user_id).action_mark_lost()
            self.env["quote.lost.wizard"].with_user(order.user_id).with_context(
                **action["context"]
            ).create(
                {"lost_reason_id": ref(reason).id, "lost_note": note}
            ).action_confirm()

        chair = "product.product_delivery_01"
        desk = "product.product_product_8"
        cabinet = "product.product_product_6"
        screens = "product.product_product_25"
        table = "product.consu_delivery_02"
        lamp = "product.product_delivery_02"

        # Deviating, within the salesperson's own authority: no approval.
        order = quote("quote_process.demo_partner_lotus", [(chair, 12)], days_ago=1)
        deviate(
            order,
            3,
            "quote_process.deviation_reason_volume",
            "Twelve chairs now, twenty more expected in spring.",
        )
        # Beyond the authority: awaiting the manager's approval.
        order = quote(
            "quote_process.demo_partner_harbour",
            [(desk, 4), (lamp, 4)],
            days_ago=2,
            lead="quote_process.demo_lead_harbour_offices",
        )
        deviate(
            order,
            15,
            "quote_process.deviation_reason_competitor",
            "Their current supplier offers the same desk 15% cheaper.",
        )
        order.with_user(salesman).action_request_approval()
        # Rejected by the manager.
        order = quote("quote_process.demo_partner_summit", [(table, 2)], days_ago=3)
        deviate(
            order,
            25,
            "quote_process.deviation_reason_strategic",
            "First order of a large school group.",
        )
        order.with_user(salesman).action_request_approval()
        order.with_user(manager).action_reject(
            reason=self.env._("25% is too much for a first order: offer 10%.")
        )
        # Approved, not sent yet.
        order = quote("quote_process.demo_partner_summit", [(cabinet, 6)], days_ago=2)
        deviate(
            order,
            12,
            "quote_process.deviation_reason_clearance",
            "Last cabinets of the old colour.",
        )
        approve(order)
        # Sent, awaiting the customer's response.
        send(quote("quote_process.demo_partner_lotus", [(screens, 10)], days_ago=3), 3)
        order = quote("quote_process.demo_partner_jade", [(desk, 2)], days_ago=4)
        deviate(
            order,
            8,
            "quote_process.deviation_reason_strategic",
            "Reference customer in the region.",
        )
        approve(order)
        send(order, 4)
        # Negotiating.
        send(
            quote("quote_process.demo_partner_harbour", [(chair, 30)], days_ago=6),
            6,
            response="negotiating",
        )
        # Overdue for follow-up: sent long ago, nobody called since.
        for partner, lines, days in (
            ("quote_process.demo_partner_jade", [(cabinet, 3)], 18),
            ("quote_process.demo_partner_maple", [(lamp, 20), (chair, 5)], 25),
        ):
            order = quote(partner, lines, days_ago=days)
            send(order, days)
            order.sudo().write({"reminder_count": 1, "last_reminder_date": now})
        # Won.
        for partner, lines, days in (
            ("quote_process.demo_partner_lotus", [(desk, 1), (chair, 6)], 20),
            ("quote_process.demo_partner_maple", [(table, 1)], 15),
            ("quote_process.demo_partner_jade", [(screens, 4)], 9),
        ):
            order = quote(partner, lines, days_ago=days)
            send(order, days)
            order.with_user(salesman).action_confirm()
        # Lost, for several reasons.
        for partner, lines, days, reason, note, lead in (
            (
                "quote_process.demo_partner_maple",
                [(desk, 3)],
                30,
                "quote_process.lost_reason_price_higher",
                "A competitor offered the same desks 12% cheaper.",
                "quote_process.demo_lead_maple_refit",
            ),
            (
                "quote_process.demo_partner_summit",
                [(chair, 40)],
                28,
                "quote_process.lost_reason_quote_later",
                "They had signed with another supplier the day before.",
                None,
            ),
            (
                "quote_process.demo_partner_harbour",
                [(table, 1)],
                21,
                "quote_process.lost_reason_no_decision",
                "The project was postponed without a new date.",
                None,
            ),
            (
                "quote_process.demo_partner_lotus",
                [(lamp, 50)],
                16,
                "quote_process.lost_reason_product_fit",
                "They needed dimmable lamps.",
                None,
            ),
            (
                "quote_process.demo_partner_jade",
                [(cabinet, 2)],
                12,
                "quote_process.lost_reason_price_higher",
                "Price matched by their usual supplier.",
                None,
            ),
        ):
            order = quote(partner, lines, days_ago=days, lead=lead)
            send(order, days)
            lose(order, reason, note)
        return True
