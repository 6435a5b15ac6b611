from odoo import fields, models


class QuoteAnalysis(models.Model):
    """The rounds of negotiation of each quotation: its versions sent."""

    _inherit = "quote.analysis"
    _depends = {"quote.version": ["order_id"]}

    version_count = fields.Integer(
        string="Versions Sent",
        readonly=True,
        aggregator="avg",
        help="Versions of the quotation sent to the customer: the rounds of "
        "negotiation (the average when grouped).",
    )

    def _select_additional_fields(self):
        res = super()._select_additional_fields()
        res["version_count"] = (
            "(SELECT COUNT(*) FROM quote_version v WHERE v.order_id = s.id)"
        )
        return res
