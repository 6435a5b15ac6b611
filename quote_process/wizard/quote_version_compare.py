from odoo import api, fields, models


class QuoteVersionCompare(models.TransientModel):
    _name = "quote.version.compare"
    _description = "Compare Quotation Versions"

    order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Quotation",
        required=True,
        ondelete="cascade",
        help="The quotation whose versions are compared.",
    )
    version_from_id = fields.Many2one(
        comodel_name="quote.version",
        string="From Version",
        required=True,
        ondelete="cascade",
        domain="[('order_id', '=', order_id)]",
        help="The earlier version.",
    )
    version_to_id = fields.Many2one(
        comodel_name="quote.version",
        string="To Version",
        required=True,
        ondelete="cascade",
        domain="[('order_id', '=', order_id)]",
        help="The later version.",
    )
    comparison_html = fields.Html(
        string="Changes",
        compute="_compute_comparison_html",
        sanitize=False,
        help="Lines added, removed and changed, totals, payment terms and "
        "validity, from the first version to the second.",
    )

    @api.depends("version_from_id", "version_to_id")
    def _compute_comparison_html(self):
        for wizard in self:
            older, newer = wizard.version_from_id, wizard.version_to_id
            if not (older and newer):
                wizard.comparison_html = False
                continue
            if older.version > newer.version:
                older, newer = newer, older
            wizard.comparison_html = newer._diff_html(older)
