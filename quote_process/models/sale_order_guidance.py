from odoo import api, fields, models


class SaleOrder(models.Model):
    """What a quotation gives away against the engine price: the figures the
    quote analysis groups by (deviation band, discount given)."""

    _inherit = "sale.order"

    quote_deviation_above = fields.Float(
        string="Largest Increase vs Engine (%)",
        compute="_compute_quote_deviation_figures",  # in sale_order_approval.py
        store=True,
        digits=(16, 2),
        help="How far above the engine price this quote goes at most, in percent.",
    )
    quote_discount_amount = fields.Monetary(
        string="Discount vs Engine",
        compute="_compute_quote_deviation_figures",  # in sale_order_approval.py
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
            # the largest line; of equal ones, the first created (a new line
            # first); a line's product is read only when it may be the largest
            main = subtotal = None
            for line in order.order_line:
                line_subtotal = line.price_subtotal
                if main is not None and line_subtotal < subtotal:
                    continue
                if not line.product_id or line.display_type or line.is_downpayment:
                    continue
                if (
                    main is None
                    or line_subtotal > subtotal
                    or (line._origin.id or 0) < (main._origin.id or 0)
                ):
                    main, subtotal = line, line_subtotal
            order.quote_main_product_id = main.product_id if main else False
