"""Quote lines of the quote process: the only create and write of lines.

The capabilities live beside this file: the pricing engine
(``sale_order_line_engine.py``), deviations and the price lock
(``sale_order_line_deviation.py``), one customer, one price
(``sale_order_line_conflict.py``).
"""

from contextlib import contextmanager

from odoo import api, models
from odoo.tools import float_compare

from .input_check import check_client_values
from .sale_order import prices_are_trusted

# Fields computed by the engine: never taken from what a client sends.
ENGINE_FIELDS = ("engine_price_unit", "engine_steps")
# Fields computed on the server from the prices: ignored in client values too,
# or a line could hide its deviation from the engine price.
SERVER_FIELDS = (
    *ENGINE_FIELDS,
    "is_engine_priced",
    "deviation_percent",
    "price_set_by_id",
)
# Who sets these fields answers for the price.
PRICE_FIELDS = ("price_unit", "discount")
# Changing these fields checks that a line beyond the tolerance has a reason.
DEVIATION_CHECK_FIELDS = (
    *PRICE_FIELDS,
    "product_id",
    "product_uom_qty",
    "deviation_reason_id",
    "deviation_note",
)
# Key of the cursor's cache (never of the context, which clients send) under
# which Odoo's multi-step repricing defers the check to its end.
DEFERRED_CHECK_KEY = "quote_process_deferred_deviation_check"


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        self._clear_engine_pricelist_memo()
        for vals in vals_list:
            for fname in SERVER_FIELDS:
                vals.pop(fname, None)
            check_client_values(self, vals)
            if not self.env.su and any(f in vals for f in PRICE_FIELDS):
                vals["price_set_by_id"] = self.env.uid
        lines = super().create(vals_list)
        checked = lines.browse(
            [
                line.id
                for line, vals in zip(lines, vals_list, strict=True)
                if not line._quote_is_delivered_extra(vals)
            ]
        )
        checked._quote_check_people_deviations()
        return lines

    def _quote_is_delivered_extra(self, vals):
        """Whether the line was created by the delivery of a confirmed order:
        a product delivered (or returned for exchange) beyond what was ordered,
        which sale_stock adds as a line linked to its picked stock moves,
        nothing ordered, at the unit price of the ordered line of the
        product (invoiced on delivery), at zero (invoiced on order) or at the
        price computed for it. Its price is Odoo's own, set by the validation
        of the picking, not by the person who validates it: recorded, not
        refused. A line that claims to be one at another price is checked."""
        self.ensure_one()
        if not (
            vals.get("move_ids")
            and "move_ids" in self._fields
            and self.order_id.state == "sale"
            and not self.product_uom_qty
        ):
            return False
        moves = self.sudo().move_ids
        if not moves or not all(moves.mapped("picked")):
            return False
        if "price_unit" not in vals:
            return True
        if self.product_id.invoice_policy == "order":
            expected = 0.0
        else:
            ordered = (self.order_id.order_line - self).filtered(
                lambda line: line.product_id == self.product_id
            )[:1]
            if not ordered:
                return False
            expected = ordered.price_unit
        return (
            float_compare(
                vals["price_unit"] or 0.0,
                expected,
                precision_digits=self.env["decimal.precision"].precision_get(
                    "Product Price"
                ),
            )
            == 0
        )

    def write(self, vals):
        self._clear_engine_pricelist_memo()
        if any(fname in vals for fname in SERVER_FIELDS):
            vals = {
                fname: value
                for fname, value in vals.items()
                if fname not in SERVER_FIELDS
            }
        check_client_values(self, vals)
        if not self.env.su and any(f in vals for f in PRICE_FIELDS):
            vals = {**vals, "price_set_by_id": self.env.uid}
        locked_changes = self._quote_price_lock_changes(vals)
        self._quote_check_price_lock(vals, locked_changes)
        res = super().write(vals)
        if any(fname in vals for fname in DEVIATION_CHECK_FIELDS):
            self._quote_check_people_deviations()
        if locked_changes:
            self._quote_post_price_lock_changes(locked_changes)
        return res

    def _quote_check_people_deviations(self):
        """A line beyond the tolerance needs a reason and a note when a person
        sets it. Prices set by server code running as superuser or by an
        integration user are recorded (their deviation is computed and shown),
        not refused: the person who sends or confirms the quote meets the rule
        at the gate. Checked here rather than in a constraint, which Odoo runs
        as superuser."""
        if prices_are_trusted(self.env) or self.env.cr.cache.get(DEFERRED_CHECK_KEY):
            return
        self._quote_check_deviation_reasons()

    @contextmanager
    def _quote_defer_deviation_check(self):
        """Check the lines once Odoo's repricing is done: Update Prices writes
        the unit prices, then resets the discounts, then computes them again,
        and only the result is the price a person set."""
        cache = self.env.cr.cache
        cache[DEFERRED_CHECK_KEY] = cache.get(DEFERRED_CHECK_KEY, 0) + 1
        try:
            yield
        finally:
            cache[DEFERRED_CHECK_KEY] -= 1
        self._quote_check_people_deviations()
