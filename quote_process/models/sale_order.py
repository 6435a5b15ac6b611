from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tools import float_compare, float_is_zero, html_escape
from odoo.tools.mail import plaintext2html

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
                line._quote_effective_price_unit() * line.product_uom_qty
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

    def _quote_salesperson_authority(self):
        self.ensure_one()
        if not self.user_id:
            return 0.0
        return self.env["quote.discount.authority"]._get_user_authority(
            self.user_id, self.company_id or self.env.company
        )

    @api.depends("user_id", "company_id")
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
        deviation, and they are neither its salesperson nor the requester. The
        team leader comes first."""
        self.ensure_one()
        company = self.company_id or self.env.company
        users = self.env["quote.discount.authority"]._get_users_with_authority(
            round(self.max_deviation_percent, 2), company
        )
        users -= self.user_id | self.approval_requested_by_id
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

    def _quote_blocking_approval(self):
        """Quotes whose prices go beyond their salesperson's authority without a
        covering approval, computed afresh (authorities may have changed)."""
        blocked = self.browse()
        for order in self:
            if order.state not in ("draft", "sent"):
                continue
            order.invalidate_recordset(["max_deviation_percent", "approval_state"])
            if order._quote_get_approval_state() in ("required", "pending", "rejected"):
                blocked |= order
        return blocked

    def _quote_check_can_proceed(self):
        """Raise when a quote cannot go to the customer or be confirmed yet."""
        self.filtered(lambda o: o.state in ("draft", "sent")).order_line.filtered(
            lambda line: line._is_engine_priced()
        )._quote_check_deviation_reasons()
        blocked = self._quote_blocking_approval()
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
                price=line.currency_id.format(line._quote_effective_price_unit()),
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
        if self.env.user in (self.user_id | self.approval_requested_by_id):
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
        if not reason or not reason.strip():
            if len(self) == 1 and self.env.context.get("quote_reject_wizard", True):
                return {
                    "type": "ir.actions.act_window",
                    "name": self.env._("Reject Prices"),
                    "res_model": "quote.approval.reject.wizard",
                    "view_mode": "form",
                    "target": "new",
                    "context": {"default_order_id": self.id},
                }
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
            self._quote_check_approval_fields(vals)
        orders = super().create(vals_list)
        if not self.env.su:
            orders._quote_process_check_lost_on_create()
        return orders

    def write(self, vals):
        self._quote_check_approval_fields(vals)
        if vals.get("state") in ("sent", "sale"):
            self._quote_check_can_proceed()
        if not self.env.su:
            self._quote_process_check_lost_write(vals)
        restored = self.browse()
        if vals.get("state") and vals["state"] != "cancel":
            restored = self.filtered(lambda order: order._quote_process_is_lost())
        lost_reasons = {order.id: order.lost_reason_id for order in restored}
        res = super().write(vals)
        if vals.get("state") == "cancel":
            self._quote_process_date_losses()
        if restored:
            restored._quote_process_clear_loss(lost_reasons)
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
