from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare, float_is_zero


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # ------------------------------------------------------------------
    # Deviation from the engine price
    # ------------------------------------------------------------------

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
    deviation_needs_reason = fields.Boolean(
        compute="_compute_deviation_needs_reason",
        help="The deviation exceeds the company's tolerance: a reason and a note "
        "are required.",
    )

    @api.depends("price_unit", "discount", "engine_price_unit")
    def _compute_deviation_percent(self):
        for line in self:
            line.deviation_percent = line._quote_deviation_percent()

    def _quote_effective_price_unit(self):
        self.ensure_one()
        return self.price_unit * (1.0 - (self.discount or 0.0) / 100.0)

    def _quote_deviation_percent(self):
        """(effective unit price - engine price) / engine price * 100, 0 for the
        lines the engine does not price."""
        self.ensure_one()
        engine_price = self.engine_price_unit
        if not self._is_engine_priced() or float_is_zero(
            engine_price, precision_digits=6
        ):
            return 0.0
        return (self._quote_effective_price_unit() - engine_price) / engine_price * 100

    @api.depends("deviation_percent", "company_id.quote_deviation_tolerance")
    def _compute_deviation_needs_reason(self):
        for line in self:
            line.deviation_needs_reason = line._quote_exceeds_tolerance()

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
                    tolerance=f"{missing[0].company_id.quote_deviation_tolerance:g}",
                    lines="\n".join(
                        self.env._(
                            "- %(order)s: %(product)s at %(price)s, engine price "
                            "%(engine)s (%(percent)s%%)",
                            order=line.order_id.name,
                            product=line.product_id.display_name or line.name,
                            price=line.currency_id.format(
                                line._quote_effective_price_unit()
                            ),
                            engine=line.currency_id.format(line.engine_price_unit),
                            percent=f"{line.deviation_percent:+.2f}",
                        )
                        for line in missing
                    ),
                )
            )

    @api.constrains(
        "price_unit",
        "discount",
        "product_id",
        "product_uom_qty",
        "deviation_reason_id",
        "deviation_note",
    )
    def _check_deviation_reason(self):
        self._quote_check_deviation_reasons()
