from odoo import api, fields, models
from odoo.exceptions import UserError


class QuoteLostWizard(models.TransientModel):
    _name = "quote.lost.wizard"
    _description = "Mark Quotations as Lost"

    order_ids = fields.Many2many(
        comodel_name="sale.order",
        relation="quote_lost_wizard_sale_order_rel",
        column1="wizard_id",
        column2="order_id",
        string="Quotations",
        required=True,
        help="The quotations to mark as lost.",
    )
    order_count = fields.Integer(
        compute="_compute_order_count",
        help="Number of quotations to mark as lost.",
    )
    lost_reason_id = fields.Many2one(
        comodel_name="crm.lost.reason",
        string="Lost Reason",
        required=True,
        help="Why the customer did not accept. Required: managers analyse the "
        "share of each reason.",
    )
    lost_note = fields.Text(
        string="Note",
        help="What happened, in your words: the competitor's offer, the customer's "
        "answer, anything that helps win the next one.",
    )
    lost_opportunity_ids = fields.Many2many(
        comodel_name="crm.lead",
        compute="_compute_lost_opportunity_ids",
        string="Opportunities Lost Too",
        help="Opportunities that keep no other open quotation or order: they are "
        "marked as lost with the same reason.",
    )

    @api.depends("order_ids")
    def _compute_order_count(self):
        for wizard in self:
            wizard.order_count = len(wizard.order_ids)

    @api.depends("order_ids")
    def _compute_lost_opportunity_ids(self):
        for wizard in self:
            orders = wizard.order_ids._origin
            wizard.lost_opportunity_ids = orders._quote_opportunities_to_lose()

    @api.model_create_multi
    def create(self, vals_list):
        # The one check of the required reason, with a message that says what
        # to do; the column is NOT NULL, so a saved wizard always has one.
        if not all(vals.get("lost_reason_id") for vals in vals_list):
            raise UserError(
                self.env._(
                    "A quotation cannot be marked as lost without a reason. "
                    "Choose the lost reason that fits best."
                )
            )
        return super().create(vals_list)

    def action_confirm(self):
        """Mark the wizard's quotations as lost and cancel them."""
        self.ensure_one()
        orders = self.order_ids
        if not orders:
            raise UserError(self.env._("Select the quotations to mark as lost."))
        orders._quote_check_can_be_lost()
        orders.check_access("write")
        orders._quote_mark_lost(self.lost_reason_id, self.lost_note)
        return {"type": "ir.actions.act_window_close"}
