from odoo import fields, models


class QuoteApprovalRejectWizard(models.TransientModel):
    _name = "quote.approval.reject.wizard"
    _description = "Reject Quote Prices"

    order_id = fields.Many2one(
        "sale.order", required=True, ondelete="cascade", help="The quote to reject."
    )
    reason = fields.Text(
        required=True,
        help="Why the prices are rejected and what the salesperson should change; "
        "posted on the quote and sent to its salesperson.",
    )

    def action_confirm(self):
        self.ensure_one()
        self.order_id.action_reject(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
