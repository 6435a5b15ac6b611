from odoo import fields, models


class QuoteDeviationReason(models.Model):
    _name = "quote.deviation.reason"
    _inherit = ["quote_process.input.check.mixin"]
    _description = "Price Deviation Reason"
    _order = "sequence, name, id"

    name = fields.Char(
        string="Reason",
        required=True,
        translate=True,
        help="Why a quote line departs from the engine price, e.g. a competitor's "
        "price was matched.",
    )
    sequence = fields.Integer(default=10, help="Order of the reasons in lists.")
    active = fields.Boolean(
        default=True,
        help="Archived reasons can no longer be chosen; lines that used them keep "
        "them.",
    )
    description = fields.Text(
        translate=True,
        help="When to use this reason; shown to salespeople as guidance.",
    )

    _name_uniq = models.Constraint(
        "UNIQUE(name)",
        "A deviation reason with this name already exists.",
    )
