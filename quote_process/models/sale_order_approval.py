from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.http import request
from odoo.tools import (
    float_compare,
    float_is_zero,
    html_escape,
)

from ..tools.formatting import format_number
from ..tools.marks import marking
from .sale_order import (
    APPROVAL_BLOCKING_STATES,
    APPROVAL_REJECTABLE_STATES,
    APPROVAL_REQUESTABLE_STATES,
    QUOTATION_STATES,
    prices_are_trusted,
)

# Orders whose stored approval state is recomputed at once.
APPROVAL_REFRESH_BATCH = 500
# quotations whose gate an action has just passed, for the write of their state
GATE_PASSED_KEY = "quote_process.gate_passed"

# Set by the approval actions only.
APPROVAL_FIELDS = {
    "approval_request_state",
    "approval_requested_by_id",
    "approval_requested_date",
    "approved_by_id",
    "approved_date",
    "approved_deviation_percent",
}


class SaleOrder(models.Model):
    _inherit = "sale.order"

    max_deviation_percent = fields.Float(
        string="Largest Discount vs Engine (%)",
        compute="_compute_quote_deviation_figures",
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
    approval_requested_date = fields.Datetime(
        string="Approval Requested On",
        readonly=True,
        copy=False,
        help="When the approval of this quote's prices was last asked for.",
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
        help="Who may approve the prices of this quote, while they wait for "
        "an approval.",
    )
    can_approve_quote = fields.Boolean(
        compute="_compute_quote_approver_ids",
        help="Whether you may approve the prices of this quote.",
    )
    quote_authority_granter_ids = fields.Many2many(
        "res.users",
        string="Can Grant Authority",
        compute="_compute_quote_approver_ids",
        help="When nobody may approve this quote: who may give a role the "
        "discount authority it needs (the company's sales administrators).",
    )
    quote_priced_before_install = fields.Boolean(
        string="Sent Before Quote Process",
        readonly=True,
        copy=False,
        help="The quotation was already sent when Quote Process was installed: "
        "its prices wait for no approval unless the company setting 'Approval "
        "for quotes sent before installation' is on, or until a person changes "
        "one of its prices.",
    )

    # ------------------------------------------------------------------
    # Computes and searches
    # ------------------------------------------------------------------

    @api.depends(
        "order_line.deviation_percent",
        "order_line.price_subtotal",
        "order_line.engine_price_unit",
        "order_line.price_unit",
        "order_line.discount",
        "order_line.product_uom_qty",
        "order_line.is_engine_priced",
    )
    def _compute_quote_deviation_figures(self):
        """The largest deviations below and above the engine price and the
        discount given against it (``quote_deviation_above`` and
        ``quote_discount_amount``, see sale_order_guidance.py), computed together
        from the lines' values read once, which a change of one line of a
        large quote reads again."""
        for order in self:
            figures = order._quote_deviation_figures()
            order.max_deviation_percent = figures["below"]
            order.quote_deviation_above = figures["above"]
            order.quote_discount_amount = figures["discount"]

    @api.depends(
        "max_deviation_percent",
        "user_id",
        "company_id",
        "approval_request_state",
        "approved_deviation_percent",
        "order_line.price_set_by_id",
        "state",
        "quote_priced_before_install",
        "company_id.quote_approve_preexisting",
    )
    def _compute_approval_state(self):
        for order in self:
            approval_state = order._quote_get_approval_state()
            # Confirmed and cancelled orders are past the gate: they never
            # show as needing an approval.
            if (
                order.state not in QUOTATION_STATES
                and approval_state in APPROVAL_BLOCKING_STATES
            ):
                approval_state = "not_required"
            order.approval_state = approval_state

    @api.depends("user_id", "company_id", "order_line.price_set_by_id")
    def _compute_salesperson_authority(self):
        for order in self:
            order.salesperson_authority = order._quote_salesperson_authority()

    @api.depends("max_deviation_percent", "approval_state", "user_id")
    @api.depends_context("uid")
    def _compute_quote_approver_ids(self):
        for order in self:
            # named only while the quote waits for an approval: the form
            # computes them on every change of a line
            approvers = (
                order._quote_get_approvers()
                if order.approval_state in APPROVAL_BLOCKING_STATES
                else self.env["res.users"]
            )
            order.quote_approver_ids = approvers
            order.can_approve_quote = (
                order.approval_state in APPROVAL_BLOCKING_STATES
                and self.env.user in approvers
            )
            order.quote_authority_granter_ids = (
                not approvers
                and order.approval_state in APPROVAL_BLOCKING_STATES
                and order._quote_get_authority_granters()
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_quotation_send(self):
        self._quote_check_can_proceed()
        return super().action_quotation_send()

    def action_quotation_sent(self):
        self._quote_check_can_proceed()
        with self._quote_gate_passed():
            return super().action_quotation_sent()

    def action_confirm(self):
        self._quote_check_can_proceed()
        with self._quote_gate_passed():
            return super().action_confirm()

    def action_request_approval(self):
        for order in self:
            if order.approval_state not in APPROVAL_REQUESTABLE_STATES:
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
                "is_engine_priced"
            )._quote_check_deviation_reasons()
            order.check_access("write")
            order._quote_request_approval()
        return True

    def action_approve(self):
        for order in self:
            if order.approval_state not in APPROVAL_BLOCKING_STATES:
                raise UserError(
                    self.env._(
                        "Quote %(order)s has nothing to approve.", order=order.name
                    )
                )
            order._quote_check_approver()
            order._quote_approve()
        return True

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
            if order.approval_state not in APPROVAL_REJECTABLE_STATES:
                raise UserError(
                    self.env._(
                        "Quote %(order)s has no prices awaiting approval.",
                        order=order.name,
                    )
                )
            order._quote_check_approver()
            order._quote_reject(reason.strip())
        return True

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _quote_max_deviation_below(self):
        """Largest deviation below the engine price, as a positive percentage."""
        return self._quote_deviation_figures()["below"]

    def _quote_deviation_figures(self):
        """What the quote's prices give away against the engine price, from
        its lines' values read once:

        - ``below``: the largest deviation below the engine price, as a
          positive percentage: of a line, or of the whole quote when global
          discount lines (Odoo's discount wizard) lower it;
        - ``above``: the largest deviation of a line above the engine price;
        - ``discount``: the engine total of the engine-priced lines minus what
          the quote charges for them, global discount lines included.

        :return: dict with the keys ``below``, ``above`` and ``discount``"""
        self.ensure_one()
        discount_product = self.company_id.sale_discount_product_id
        below = above = engine_total = effective_total = discount_total = 0.0
        lines = self.order_line
        # a change of one line of a large quote walks all its lines again:
        # their values taken with mapped (the field's getter called directly
        # on each line) rather than an attribute read per line and field
        for line, engine_priced, deviation, quantity, engine_price in zip(
            lines,
            lines.mapped("is_engine_priced"),
            lines.mapped("deviation_percent"),
            lines.mapped("product_uom_qty"),
            lines.mapped("engine_price_unit"),
            strict=True,
        ):
            if engine_priced:
                below = max(below, -deviation)
                above = max(above, deviation)
                engine_total += engine_price * quantity
                effective_total += line._get_discounted_price() * quantity
            elif discount_product and line.product_id == discount_product:
                discount_total += line.price_unit * quantity
        if discount_total and not float_is_zero(engine_total, precision_digits=2):
            whole = (engine_total - effective_total - discount_total) / engine_total
            below = max(below, whole * 100)
        return {
            "below": below,
            "above": above,
            "discount": engine_total - effective_total - discount_total,
        }

    def _quote_get_approval_state(self):
        self.ensure_one()
        if self._quote_is_exempt_before_install():
            return "not_required"
        needed = self.max_deviation_percent
        # nothing below the engine price is within anybody's authority
        if float_compare(needed, 0.0, 2) <= 0 or (
            float_compare(needed, self._quote_salesperson_authority(), 2) <= 0
        ):
            return "not_required"
        if (
            self.approved_by_id
            and float_compare(needed, self.approved_deviation_percent, 2) <= 0
        ):
            return "approved"
        return self.approval_request_state or "required"

    def _quote_is_exempt_before_install(self):
        """A quotation sent before installation waits for no approval, unless
        its company asks for it or a person changed one of its prices since."""
        self.ensure_one()
        return bool(
            self.quote_priced_before_install
            and not self.company_id.quote_approve_preexisting
            and not self.order_line.price_set_by_id
        )

    @api.model
    def _quote_refresh_approval_states(self, companies=None, open_only=True):
        """Recompute the stored approval state after the authorities, the
        tolerance or the settings changed, in batches. Confirmed and cancelled
        orders are left as they are unless ``open_only`` is false."""
        domain = Domain("company_id", "in", companies.ids) if companies else Domain.TRUE
        if open_only:
            domain &= Domain("state", "in", QUOTATION_STATES)
        orders = self.with_context(active_test=False, tracking_disable=True)
        order_ids = orders.sudo().search(domain, order="id").ids
        field = self._fields["approval_state"]
        for start in range(0, len(order_ids), APPROVAL_REFRESH_BATCH):
            batch = orders.sudo().browse(
                order_ids[start : start + APPROVAL_REFRESH_BATCH]
            )
            self.env.add_to_compute(field, batch)
            batch.flush_recordset(["approval_state"])
            batch.invalidate_recordset()
            batch.order_line.invalidate_recordset()

    def _quote_price_setters(self):
        """Users who set a price below the engine price on this quote. When
        nobody but the salesperson set its prices, the salesperson, whom every
        caller counts anyway."""
        self.ensure_one()
        setters = self.order_line.price_set_by_id
        if not setters or setters == self.user_id:
            # nobody but the salesperson set a price: no need to walk the lines
            return setters
        return self.order_line.filtered(
            lambda line: (
                line.deviation_percent < 0
                if line.is_engine_priced
                else line.price_unit < 0
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

    def _quote_get_authority_granters(self):
        """Who may give a role a discount authority in this quote's company:
        its sales administrators."""
        self.ensure_one()
        return self.env["quote.discount.authority"]._get_company_users(
            self.env.ref("sales_team.group_sale_manager"),
            self.company_id or self.env.company,
        )

    def _quote_check_approval_fields(self, vals):
        if APPROVAL_FIELDS & set(vals) and not self.env.su:
            raise AccessError(
                self.env._(
                    "Approval fields are set by the approval buttons only: use "
                    "Request Approval, Approve or Reject on the quote."
                )
            )

    # The gate: send, print, sign, pay, confirm.
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
            if order._quote_get_approval_state() in APPROVAL_BLOCKING_STATES:
                blocked |= order
        return blocked

    def _quote_gate_trusts_env(self):
        """Whether the gate lets the current environment through: server code
        running as superuser or an integration user, but never a customer's
        request, which Odoo's portal serves as superuser."""
        if not prices_are_trusted(self.env):
            return False
        request_env = getattr(request, "env", None) if request else None
        return not (request_env and request_env.user.share)

    def _quote_gate_passed(self):
        """While an action that has just passed the gate sends or confirms
        these quotations, the write of their state does not check it again."""
        return marking(self.env.cr.cache, GATE_PASSED_KEY, self.ids)

    def _quote_check_state_write(self):
        """The gate, when a write sends or confirms these quotations."""
        passed = self.env.cr.cache.get(GATE_PASSED_KEY, ())
        self.filtered(lambda o: o.id not in passed)._quote_check_can_proceed()

    def _quote_check_can_proceed(self, states=QUOTATION_STATES, trust_env=True):
        """Raise when a quote cannot go to the customer or be confirmed yet.

        The gate guards what people and customers do: with ``trust_env``, server
        code running as superuser and integration users pass it. The customer's
        own steps on the portal are guarded by ``_has_to_be_signed``,
        ``_has_to_be_paid`` and the payment route."""
        if trust_env and self._quote_gate_trusts_env():
            return
        self.filtered(lambda o: o.state in states).order_line.filtered(
            "is_engine_priced"
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
                "nobody in the company has that authority: ask %(granters)s to "
                "give a role a discount authority of at least %(percent)s%%",
                granters=", ".join(order._quote_get_authority_granters().mapped("name"))
                or self.env._("an administrator"),
                percent=format_number(self.env, order.max_deviation_percent),
            )
        raise UserError(
            self.env._(
                "Quote %(order)s goes %(percent)s%% below the engine price, beyond "
                "the %(authority)s%% that %(salesperson)s may give. It cannot be "
                "sent, printed for the customer, signed, paid or confirmed until its "
                "prices are approved (status: %(status)s). Request approval; it can "
                "be approved by: %(who)s.",
                order=order.name,
                percent=format_number(self.env, order.max_deviation_percent),
                authority=format_number(self.env, order._quote_salesperson_authority()),
                salesperson=order.user_id.name or self.env._("its salesperson"),
                status=dict(
                    order._fields["approval_state"]._description_selection(self.env)
                ).get(order._quote_get_approval_state()),
                who=who,
            )
        )

    def _has_to_be_signed(self):
        return super()._has_to_be_signed() and not self._quote_blocking_approval()

    def _has_to_be_paid(self):
        return super()._has_to_be_paid() and not self._quote_blocking_approval()

    # Request, approve, reject.
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
                percent=format_number(self.env, line.deviation_percent, signed=True),
                reason=line.deviation_reason_id.name or self.env._("no reason"),
            )
            for line in self.order_line
            if line.is_engine_priced and line._quote_exceeds_tolerance()
        )
        return Markup("<ul>%s</ul>") % items if items else Markup("")

    def _quote_request_approval(self):
        """Record the request and notify the approvers (after access checks)."""
        self.ensure_one()
        self.sudo().write(
            {
                "approval_request_state": "pending",
                "approval_requested_by_id": self.env.uid,
                "approval_requested_date": fields.Datetime.now(),
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
                    percent=format_number(self.env, self.max_deviation_percent),
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
                    percent=format_number(self.env, self.max_deviation_percent),
                ),
            )
        self.message_post(
            body=Markup("%s%s")
            % (
                self.env._(
                    "Approval requested for prices up to %(percent)s%% below the "
                    "engine price (authority of %(salesperson)s: %(authority)s%%). "
                    "Asked of: %(approvers)s.",
                    percent=format_number(self.env, self.max_deviation_percent),
                    salesperson=self.user_id.name or "",
                    authority=format_number(
                        self.env, self._quote_salesperson_authority()
                    ),
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
                    percent=format_number(self.env, self.max_deviation_percent),
                    order=self.name,
                    who=", ".join(self._quote_get_approvers().mapped("name"))
                    or self.env._("nobody yet"),
                )
            )

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
                    percent=format_number(self.env, self.max_deviation_percent),
                ),
                self._quote_deviation_summary_html(),
            ),
            subtype_xmlid="mail.mt_note",
        )

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
