from odoo import api, fields, models


class SaleOrder(models.Model):
    """What a quotation gives away against the engine price: the figures the
    quote analysis groups by (deviation band, discount given)."""

    _inherit = "sale.order"

    quote_deviation_above = fields.Float(
        string="Largest Increase vs Engine (%)",
        compute="_compute_quote_discount",
        store=True,
        digits=(16, 2),
        help="How far above the engine price this quote goes at most, in percent.",
    )
    quote_discount_amount = fields.Monetary(
        string="Discount vs Engine",
        compute="_compute_quote_discount",
        store=True,
        help="The engine total of the engine-priced lines minus what the quote "
        "charges for them (global discount lines included), untaxed: what the "
        "quote gives away against the engine price.",
    )

    quote_main_product_id = fields.Many2one(
        comodel_name="product.product",
        string="Main Product",
        compute="_compute_quote_main_product_id",
        store=True,
        help="The product of the quote's largest line (by untaxed amount): its "
        "category is the quote's main product category in Quote Analysis.",
    )

    @api.depends(
        "order_line.price_subtotal",
        "order_line.product_id",
        "order_line.display_type",
        "order_line.is_downpayment",
    )
    def _compute_quote_main_product_id(self):
        for order in self:
            # the largest line; of equal ones, the first created
            ranked = sorted(
                order.order_line,
                key=lambda line: (-line.price_subtotal, line._origin.id or 0),
            )
            main = next(
                (
                    line
                    for line in ranked
                    if line.product_id
                    and not line.display_type
                    and not line.is_downpayment
                ),
                order.order_line.browse(),
            )
            order.quote_main_product_id = main.product_id

    @api.depends(
        "order_line.deviation_percent",
        "order_line.engine_price_unit",
        "order_line.price_unit",
        "order_line.discount",
        "order_line.product_uom_qty",
    )
    def _compute_quote_discount(self):
        for order in self:
            engine_lines = order.order_line.filtered("is_engine_priced")
            order.quote_deviation_above = max(
                [line.deviation_percent for line in engine_lines] + [0.0]
            )
            discount = sum(
                (line.engine_price_unit - line._get_discounted_price())
                * line.product_uom_qty
                for line in engine_lines
            )
            discount_product = order.company_id.sale_discount_product_id
            if discount_product:
                discount -= sum(
                    line.price_unit * line.product_uom_qty
                    for line in order.order_line
                    if line.product_id == discount_product and not line.is_engine_priced
                )
            order.quote_discount_amount = discount
