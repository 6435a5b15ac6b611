"""Quotations of the quote process: the model-wide create, write and cancel.

Each capability has a file of its own (``sale_order_approval.py``,
``sale_order_followup.py`` and its reminder ``sale_order_reminder.py``,
``sale_order_lost.py``, ``sale_order_offers.py``, ``sale_order_conflict.py``,
``sale_order_version.py``); this file decides the order in which their steps
run on create and write.
"""

from odoo import api, models

from .input_check import check_client_values

# States in which a sales order is still a quotation.
QUOTATION_STATES = ("draft", "sent")

# Approval states that hold a quote back from the customer (send, print, sign,
# pay, confirm); an approver may approve a quote in any of them, a rejected one
# included (the approver changed their mind).
APPROVAL_BLOCKING_STATES = ("required", "pending", "rejected")
# Approval states in which the salesperson may ask for an approval.
APPROVAL_REQUESTABLE_STATES = ("required", "rejected")
# Approval states in which an approver may reject the prices.
APPROVAL_REJECTABLE_STATES = ("required", "pending")

# Computed on the server from the lines: ignored in client values, or a quote
# could hide how far below the engine price it goes (or misreport it in Quote
# Analysis).
APPROVAL_COMPUTED_FIELDS = (
    "max_deviation_percent",
    "approval_state",
    "quote_deviation_above",
    "quote_discount_amount",
    "quote_main_product_id",
)

# Members set prices for an integration (shop, EDI, connector): their prices are
# recorded like the superuser's, never refused.
INTEGRATION_PRICES_GROUP = "quote_process.group_quote_integration_prices"


def prices_are_trusted(env):
    """Whether the prices set in ``env`` are recorded without being refused:
    server code running as superuser (Odoo's own flows, other addons' automated
    flows), or a user the administrator made an integration user. What people
    set follows the deviation rules and the approval gate."""
    return env.su or env.user.has_group(INTEGRATION_PRICES_GROUP)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    @api.model_create_multi
    def create(self, vals_list):
        """Before Odoo creates: approval (values computed on the server are
        dropped, the approval fields checked), follow-up and versions (their
        system fields refused). After: the approval gate for quotations created
        sent or confirmed, the lost reason of a sent quotation created
        cancelled, the follow-up of the sending, the conflict policy, the
        version of a quotation created sent."""
        self.env["sale.order.line"]._clear_engine_pricelist_memo()
        for vals in vals_list:
            for fname in APPROVAL_COMPUTED_FIELDS:
                vals.pop(fname, None)
            check_client_values(self, vals)
            self._quote_check_approval_fields(vals)
            self._quote_followup_check_system_fields(vals)
            self._quote_version_check_fields(vals)
        orders = super().create(vals_list)
        # Created sent or confirmed (RPC, import): the same gate as sending and
        # confirming.
        orders.filtered(
            lambda order: order.state in ("sent", "sale")
        )._quote_check_can_proceed(states=("sent", "sale"))
        if not self.env.su:
            orders._quote_check_lost_on_create()
        orders._quote_followup_after_create()
        orders._quote_check_conflict_policy()
        orders._quote_version_after_create()
        return orders

    def write(self, vals):
        """Before Odoo writes: approval (computed values dropped, fields
        checked, the gate when the state becomes sent or sale), follow-up and
        versions (system fields refused), lost quotations (the reason kept, who
        may restore one), then what the write changes is noted. After: losses
        dated or cleared, the follow-up recorded, the conflict policy when the
        customer, salesperson or company changed, the version of a sending."""
        self.env["sale.order.line"]._clear_engine_pricelist_memo()
        if any(fname in vals for fname in APPROVAL_COMPUTED_FIELDS):
            vals = {
                fname: value
                for fname, value in vals.items()
                if fname not in APPROVAL_COMPUTED_FIELDS
            }
        check_client_values(self, vals)
        self._quote_check_approval_fields(vals)
        if vals.get("state") in ("sent", "sale"):
            self._quote_check_state_write()
        self._quote_followup_check_system_fields(vals)
        self._quote_version_check_fields(vals)
        if not self.env.su:
            self._quote_check_lost_write(vals)
        restored = self.browse()
        if vals.get("state") and vals["state"] != "cancel":
            restored = self.filtered(lambda order: order.quote_outcome == "lost")
        lost_reasons = {order.id: order.lost_reason_id for order in restored}
        vals, followup_changes = self._quote_followup_before_write(vals)
        sending = self._quote_version_before_write(vals)
        with self.env.protecting(self._quote_engine_kept(vals)):
            res = super().write(vals)
        if vals.get("state") == "cancel":
            self._quote_date_losses()
        if restored:
            restored._quote_clear_loss(lost_reasons)
        self._quote_followup_after_write(followup_changes)
        if {"partner_id", "user_id", "company_id"} & set(vals):
            self._quote_check_conflict_policy()
        self._quote_version_after_write(vals, sending)
        return res

    def _quote_engine_kept(self, vals):
        """What a write of ``vals`` leaves as it is because the engine price of
        the lines stays, as ``env.protecting`` takes it.

        On orders confirmed or being confirmed, the engine price only follows
        the lines' own changes, which this write does not make. The
        confirmation moves the order's date, which the engine follows on
        quotations: on a confirmed order, neither the engine fields nor the
        prices, amounts and taxes that follow them are computed again."""
        Line = self.env["sale.order.line"]
        if "order_line" in vals or not Line._engine_order_fields() & set(vals):
            return []
        state = vals.get("state")
        confirmed = self.filtered(lambda o: (state or o.state) not in QUOTATION_STATES)
        if not confirmed:
            return []
        lines = confirmed.order_line._get_engine_price_kept()
        line_fnames, order_fnames = Line._get_engine_only_dependents(
            tuple(sorted(vals))
        )
        orders = confirmed.filtered(lambda o: o.order_line <= lines)
        return [
            ([Line._fields[fname] for fname in line_fnames], lines),
            ([self._fields[fname] for fname in order_fnames], orders),
        ]

    def _action_cancel(self):
        """A sent quotation is cancelled only with a lost reason; refused
        before the cancellation touches invoices, pickings or rewards."""
        if not self.env.su:
            self._quote_check_lost_write({"state": "cancel"})
        return super()._action_cancel()
