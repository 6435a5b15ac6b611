from odoo import fields, models


class SaleOrderDiscount(models.TransientModel):
    _inherit = "sale.order.discount"

    deviation_reason_id = fields.Many2one(
        "quote.deviation.reason",
        string="Deviation Reason",
        help="Why the lines go below the engine price; required when the discount "
        "exceeds the price deviation tolerance.",
    )
    deviation_note = fields.Text(
        help="What justifies the discount; required with the reason.",
    )

    def action_apply_discount(self):
        self.ensure_one()
        if self.discount_type != "sol_discount" or not self.deviation_reason_id:
            return super().action_apply_discount()
        # Apply the discount and its justification in one write, so that the
        # deviation check sees both.
        lines = self.sale_order_id.order_line
        engine_lines = lines.filtered("is_engine_priced")
        discount = self.discount_percentage * 100
        engine_lines.write(
            {
                "discount": discount,
                "deviation_reason_id": self.deviation_reason_id.id,
                "deviation_note": self.deviation_note,
            }
        )
        (lines - engine_lines).write({"discount": discount})
        return True
