from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    promise_ids = fields.One2many(
        comodel_name="quote.promise",
        inverse_name="lead_id",
        string="Promises",
        help="Concessions promised to the customer during this negotiation; its "
        "quotes and the customer's other quotes get them while they are valid.",
    )
    promise_count = fields.Integer(
        compute="_compute_promise_count",
        help="Number of active promises made on this opportunity.",
    )

    @api.depends("promise_ids.state")
    def _compute_promise_count(self):
        for lead in self:
            lead.promise_count = len(
                lead.promise_ids.filtered(lambda p: p.state == "active")
            )
