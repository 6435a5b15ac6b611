from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools.mail import plaintext2html

from .sale_order import QUOTATION_STATES

# What became of a quotation; "lost" is defined by _compute_quote_outcome.
QUOTE_OUTCOMES = [
    ("open", "Open"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("withdrawn", "Withdrawn"),
]


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
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
    quote_outcome = fields.Selection(
        selection=QUOTE_OUTCOMES,
        string="Quote Outcome",
        compute="_compute_quote_outcome",
        store=True,
        index=True,
        help="Open: a quotation still waiting for the customer's answer. Won: "
        "confirmed as a sales order. Lost: cancelled and marked as lost. "
        "Withdrawn: cancelled without a loss (never a sales outcome).",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("state", "lost_date", "lost_reason_id")
    def _compute_quote_outcome(self):
        """The one definition of a lost quotation: cancelled with a lost reason
        or a lost date. The quote analysis, the lost reasons' counts and the
        views read this field."""
        for order in self:
            if order.state in QUOTATION_STATES:
                order.quote_outcome = "open"
            elif order.state == "sale":
                order.quote_outcome = "won"
            elif order.lost_date or order.lost_reason_id:
                order.quote_outcome = "lost"
            else:
                order.quote_outcome = "withdrawn"

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_mark_lost(self):
        """Open the wizard that marks the quotations as lost with a reason."""
        if not self:
            raise UserError(self.env._("Select the quotations to mark as lost."))
        self._quote_check_can_be_lost()
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
    def _quote_was_sent(self):
        """Whether the customer has received this quotation.

        True when it is in the Sent state, or when it was ever sent (its first
        sending date is known) and has been reset to draft since.
        """
        self.ensure_one()
        if self.state == "sent":
            return True
        return bool(self.quote_sent_date)

    def _quote_check_can_be_lost(self):
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

    def _quote_check_lost_on_create(self):
        cancelled = self.filtered(
            lambda order: (
                order.state == "cancel"
                and order._quote_was_sent()
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

    def _quote_check_lost_write(self, vals):
        """Rules of lost quotations that hold for every write (UI, RPC, code)."""
        if not {"state", "lost_reason_id", "lost_date"} & vals.keys():
            return
        state = vals.get("state")
        if state == "cancel" and not vals.get("lost_reason_id"):
            sent = self.filtered(
                lambda order: (
                    order.state in QUOTATION_STATES
                    and not order.lost_reason_id
                    and order._quote_was_sent()
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
        lost = self.filtered(lambda order: order.quote_outcome == "lost")
        if not lost:
            return
        if state and state != "cancel":
            lost._quote_check_can_restore()
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

    def _quote_check_can_restore(self):
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

    def _quote_date_losses(self):
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

    def _quote_clear_loss(self, lost_reasons):
        """Clear the loss of quotations set back to quotation, on the chatter."""
        vals = {"lost_reason_id": False, "lost_note": False, "lost_date": False}
        super().write(vals)
        declined = self.filtered(lambda order: order.customer_response == "declined")
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

    def _quote_mark_lost(self, reason, note=False):
        """Mark the quotations as lost with ``reason`` and cancel them.

        Callers check the user's rights first (the wizard does).
        """
        self.write(
            {
                "lost_reason_id": reason.id,
                "lost_note": note or False,
                "customer_response": "declined",
            }
        )
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
        self._quote_lose_opportunities(reason, note)

    def _quote_customer_declined(self):
        """Record the loss of quotations the customer declined online.

        The customer gives no reason from the list: the quotation is dated as
        lost and its salesperson gets an activity to record the reason.
        """
        self.write(
            {
                "lost_date": fields.Date.context_today(self),
                "customer_response": "declined",
            }
        )
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

    def _quote_opportunities_to_lose(self):
        """The opportunities of these quotations that have no other open
        quotation or order, are still open, and that the user may update."""
        leads = self.env["crm.lead"]
        for lead in self.opportunity_id:
            if not lead.has_access("write") or not lead.active:
                continue
            if lead.stage_id.is_won:
                continue
            if self._quote_lead_has_other_order(lead):
                continue
            leads |= lead
        return leads

    def _quote_lead_has_other_order(self, lead):
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

    def _quote_lose_opportunities(self, reason, note=False):
        """Mark lost, through CRM's own wizard, the opportunities whose last
        open quotation these were."""
        leads = self._quote_opportunities_to_lose()
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
