from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    quote_followup_days = fields.Integer(
        related="company_id.quote_followup_days", readonly=False
    )
    quote_escalation_days = fields.Integer(
        related="company_id.quote_escalation_days", readonly=False
    )
    quote_response_days = fields.Integer(
        related="company_id.quote_response_days", readonly=False
    )
    quote_deviation_tolerance = fields.Float(
        related="company_id.quote_deviation_tolerance", readonly=False
    )
    quote_conflict_policy = fields.Selection(
        related="company_id.quote_conflict_policy", readonly=False
    )
    quote_remind_preexisting = fields.Boolean(
        related="company_id.quote_remind_preexisting", readonly=False
    )
    quote_approve_preexisting = fields.Boolean(
        related="company_id.quote_approve_preexisting", readonly=False
    )
    quote_guidance_min_sample = fields.Integer(
        related="company_id.quote_guidance_min_sample", readonly=False
    )
