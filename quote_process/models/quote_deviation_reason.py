from odoo import api, fields, models

from .input_check import check_client_values


class QuoteDeviationReason(models.Model):
    _name = "quote.deviation.reason"
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

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_client_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_client_values(self, vals)
        return super().write(vals)
