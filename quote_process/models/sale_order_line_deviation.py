from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import (
    float_compare,
    float_is_zero,
    format_amount,
    formatLang,
)

from ..tools.formatting import format_number
from .sale_order import prices_are_trusted


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    deviation_percent = fields.Float(
        string="Deviation (%)",
        compute="_compute_deviation_percent",
        store=True,
        digits=(16, 2),
        help="How far the effective price (unit price less discount) is from the "
        "engine price, in percent. Negative: below the engine price.",
    )
    deviation_reason_id = fields.Many2one(
        "quote.deviation.reason",
        string="Deviation Reason",
        index="btree_not_null",
        ondelete="restrict",
        help="Why this line's price differs from the engine price. Required when "
        "the deviation exceeds the company's tolerance.",
    )
    deviation_note = fields.Text(
        help="What justifies the price: the competitor's offer, the deal, who agreed "
        "to it. Required when the deviation exceeds the company's tolerance.",
    )
    price_set_by_id = fields.Many2one(
        "res.users",
        string="Price Set By",
        readonly=True,
        copy=False,
        help="Who last changed this line's price or discount. A price below the "
        "engine price stays within the lower of the salesperson's authority and "
        "this user's.",
    )
    deviation_needs_reason = fields.Boolean(
        compute="_compute_deviation_needs_reason",
        help="The deviation exceeds the company's tolerance: a reason and a note "
        "are required.",
    )
    deviation_reason_required = fields.Boolean(
        compute="_compute_deviation_reason_required",
        help="Technical: the form asks the current user for a reason and a note: "
        "the deviation exceeds the tolerance and the user's prices are not "
        "recorded as they are (superuser, integration user).",
    )

    # ------------------------------------------------------------------
    # Computes and searches
    # ------------------------------------------------------------------

    @api.depends("price_unit", "discount", "engine_price_unit", "is_engine_priced")
    def _compute_deviation_percent(self):
        for line in self:
            line.deviation_percent = line._quote_deviation_percent()

    @api.depends("deviation_percent", "company_id.quote_deviation_tolerance")
    def _compute_deviation_needs_reason(self):
        for line in self:
            line.deviation_needs_reason = line._quote_exceeds_tolerance()

    @api.depends("deviation_needs_reason")
    @api.depends_context("uid")
    def _compute_deviation_reason_required(self):
        trusted = prices_are_trusted(self.env)
        for line in self:
            line.deviation_reason_required = line.deviation_needs_reason and not trusted

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _quote_deviation_percent(self):
        """(effective unit price - engine price) / engine price * 100, 0 for the
        lines the engine does not price."""
        self.ensure_one()
        engine_price = self.engine_price_unit
        if not self.is_engine_priced or float_is_zero(engine_price, precision_digits=6):
            return 0.0
        return (self._get_discounted_price() - engine_price) / engine_price * 100

    def _quote_exceeds_tolerance(self):
        self.ensure_one()
        tolerance = (self.company_id or self.env.company).quote_deviation_tolerance
        return (
            float_compare(abs(self.deviation_percent), tolerance, precision_digits=2)
            > 0
        )

    def _quote_lines_missing_reason(self):
        return self.filtered(
            lambda line: (
                line._quote_exceeds_tolerance()
                and (
                    not line.deviation_reason_id
                    or not (line.deviation_note or "").strip()
                )
            )
        )

    def _quote_check_deviation_reasons(self):
        missing = self._quote_lines_missing_reason()
        if missing:
            raise ValidationError(
                self.env._(
                    "These quote lines differ from the engine price by more than the "
                    "tolerance of %(tolerance)s%%. Select a deviation reason and write "
                    "a note on each, or reset them to the engine price:\n%(lines)s",
                    tolerance=format_number(
                        self.env, missing[0].company_id.quote_deviation_tolerance
                    ),
                    lines="\n".join(
                        self.env._(
                            "- %(order)s: %(product)s at %(price)s, engine price "
                            "%(engine)s (%(percent)s%%)",
                            order=line.order_id.name,
                            product=line.product_id.display_name or line.name,
                            price=line.currency_id.format(line._get_discounted_price()),
                            engine=line.currency_id.format(line.engine_price_unit),
                            percent=format_number(
                                self.env, line.deviation_percent, signed=True
                            ),
                        )
                        for line in missing
                    ),
                )
            )

    def _quote_price_lock_changes(self, vals):
        """The confirmed engine-priced lines whose price or discount ``vals``
        changes, with their old values: {line: (old price, old discount)}."""
        if "price_unit" not in vals and "discount" not in vals:
            return {}
        changes = {}
        for line in self:
            if line.order_id.state != "sale" or not line.is_engine_priced:
                continue
            currency = line.currency_id or line.company_id.currency_id
            price_changed = "price_unit" in vals and currency.compare_amounts(
                vals["price_unit"] or 0.0, line.price_unit
            )
            discount_changed = "discount" in vals and float_compare(
                vals["discount"] or 0.0,
                line.discount,
                precision_digits=self.env["decimal.precision"].precision_get(
                    "Discount"
                ),
            )
            if price_changed or discount_changed:
                changes[line] = (line.price_unit, line.discount)
        return changes

    def _quote_check_price_lock(self, vals, changes):
        """On a confirmed order, every change of price or discount is justified
        by a deviation reason and a note written with it (for people: prices
        set by server code or an integration are recorded on the chatter)."""
        if not changes or prices_are_trusted(self.env):
            return
        note = vals.get("deviation_note")
        missing_note = not (note or "").strip()
        for line in changes:
            reason = (
                vals.get("deviation_reason_id")
                if "deviation_reason_id" in vals
                else line.deviation_reason_id.id
            )
            if missing_note or not reason:
                raise ValidationError(
                    self.env._(
                        "Order %(order)s is confirmed: its prices are locked. To "
                        "change the price or discount of %(product)s, select a "
                        "deviation reason and write a note explaining this change "
                        "in the same edit.",
                        order=line.order_id.name,
                        product=line.product_id.display_name,
                    )
                )

    def _quote_post_price_lock_changes(self, changes):
        for order in self.env["sale.order"].union(*(line.order_id for line in changes)):
            items = []
            for line, (old_price, old_discount) in changes.items():
                if line.order_id != order:
                    continue
                currency = line.currency_id or line.company_id.currency_id
                items.append(
                    Markup("<li>%s</li>")
                    % self.env._(
                        "%(product)s: unit price %(old_price)s → %(new_price)s, "
                        "discount %(old_discount)s%% → %(new_discount)s%%. Reason: "
                        "%(reason)s. Note: %(note)s",
                        product=line.product_id.display_name,
                        old_price=format_amount(self.env, old_price, currency),
                        new_price=format_amount(self.env, line.price_unit, currency),
                        old_discount=formatLang(self.env, old_discount, dp="Discount"),
                        new_discount=formatLang(self.env, line.discount, dp="Discount"),
                        reason=line.deviation_reason_id.name or self.env._("none"),
                        note=line.deviation_note or self.env._("none"),
                    )
                )
            if order.accepted_version_id:
                title = self.env._(
                    "Price changed after confirmation (the customer accepted "
                    "version %(version)s):",
                    version=order.accepted_version_id.version,
                )
            else:
                title = self.env._("Price changed after confirmation:")
            order.message_post(
                body=Markup("%s<ul>%s</ul>") % (title, Markup().join(items)),
                subtype_xmlid="mail.mt_note",
            )
