from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import is_html_empty

from ..models.sale_order import QUOTATION_STATES


class QuoteResponseWizard(models.TransientModel):
    _name = "quote.response.wizard"
    _description = "Record a Customer Response to Quotations"

    order_ids = fields.Many2many(
        comodel_name="sale.order",
        string="Quotations",
        required=True,
        help="The quotations the customer answered.",
    )
    customer_response = fields.Selection(
        selection=[
            ("accepted", "Accepted"),
            ("negotiating", "Negotiating"),
            ("declined", "Declined"),
        ],
        string="Customer Response",
        required=True,
        default="negotiating",
        help="Accepted: the customer agrees and the quotation can be confirmed. "
        "Negotiating: the customer answered and discusses terms. Declined: the "
        "customer said no; you are then asked why the quotation was lost.",
    )
    note = fields.Html(
        string="What the Customer Said",
        help="Optional: logged as a note on each quotation.",
    )

    def action_confirm(self):
        self.ensure_one()
        orders = self.order_ids
        orders.check_access("write")
        not_quotes = orders.filtered(lambda o: o.state not in QUOTATION_STATES)
        if not_quotes:
            raise UserError(
                self.env._(
                    "Only quotations that are not confirmed or cancelled can get a "
                    "customer response: %(orders)s. Remove them from the selection.",
                    orders=", ".join(not_quotes.mapped("name")),
                )
            )
        orders.write({"customer_response": self.customer_response})
        if not is_html_empty(self.note):
            for order in orders:
                order.message_post(
                    body=self.note,
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
        if self.customer_response == "declined":
            return orders.action_mark_lost()
        return {"type": "ir.actions.act_window_close"}
