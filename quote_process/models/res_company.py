from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    quote_followup_days = fields.Integer(
        string="Follow-up Reminder After",
        default=10,
        help="Days without follow-up on a sent quote after which its salesperson "
        "is reminded.",
    )
    quote_escalation_days = fields.Integer(
        string="Escalate After",
        default=5,
        help="Further days without follow-up after the reminder before the sales "
        "team leader is told.",
    )
    quote_response_days = fields.Integer(
        string="Customer Response Within",
        default=10,
        help="Days the customer is given to answer a sent quote; sets the quote's "
        "response deadline.",
    )
    quote_deviation_tolerance = fields.Float(
        string="Price Deviation Tolerance (%)",
        default=0.5,
        digits=(16, 2),
        help="A quote line may differ from the engine price by up to this percentage "
        "without a reason.",
    )
    quote_conflict_policy = fields.Selection(
        selection=[
            ("warn", "Warn"),
            ("block", "Block"),
        ],
        string="Competing Quotes",
        default="warn",
        required=True,
        help="What happens when a salesperson quotes a customer who already has an "
        "open quote from another salesperson: warn them, or block the new quote "
        "(sales managers may still create it).",
    )
    quote_remind_preexisting = fields.Boolean(
        string="Remind Quotes Sent Before Installation",
        default=False,
        help="Also remind salespeople of the quotations that were already sent when "
        "Quote Process was installed. Off by default so that installing the addon "
        "does not flood anyone with reminders about an old backlog.",
    )

    @api.constrains(
        "quote_followup_days", "quote_escalation_days", "quote_response_days"
    )
    def _check_quote_process_days(self):
        for company in self:
            for field_name in (
                "quote_followup_days",
                "quote_escalation_days",
                "quote_response_days",
            ):
                if company[field_name] < 0:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s cannot be a negative number of days "
                            "(company %(company)s). Enter 0 or more.",
                            setting=self._fields[field_name].get_description(self.env)[
                                "string"
                            ],
                            company=company.name,
                        )
                    )

    @api.constrains("quote_deviation_tolerance")
    def _check_quote_deviation_tolerance(self):
        for company in self:
            if not 0 <= company.quote_deviation_tolerance <= 100:
                raise ValidationError(
                    self.env._(
                        "The price deviation tolerance of %(company)s must be between "
                        "0 and 100 percent; you entered %(value)s.",
                        company=company.name,
                        value=company.quote_deviation_tolerance,
                    )
                )
