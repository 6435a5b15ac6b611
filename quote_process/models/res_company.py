from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .input_check import check_client_values


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

    quote_approve_preexisting = fields.Boolean(
        string="Approval for Quotes Sent Before Installation",
        default=False,
        help="Also hold back the quotations that were already sent when Quote "
        "Process was installed until their prices are approved. Off by default "
        "so that installing the addon blocks nothing already sent to customers.",
    )

    quote_guidance_min_sample = fields.Integer(
        string="Price Guidance From",
        default=10,
        help="Decided (won or lost) quotes of the last 365 days needed before a "
        "quote line shows price guidance for its product or category.",
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

    @api.constrains("quote_guidance_min_sample")
    def _check_quote_guidance_min_sample(self):
        for company in self:
            if company.quote_guidance_min_sample < 1:
                raise ValidationError(
                    self.env._(
                        "Price guidance needs at least one decided quote (company "
                        "%(company)s); you entered %(value)s.",
                        company=company.name,
                        value=company.quote_guidance_min_sample,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_client_values(self, vals)
        companies = super().create(vals_list)
        companies._quote_create_default_authorities()
        return companies

    def write(self, vals):
        check_client_values(self, vals)
        discount_products = (
            self.sale_discount_product_id
            if "sale_discount_product_id" in vals
            else self.env["product.product"]
        )
        res = super().write(vals)
        if "sale_discount_product_id" in vals:
            self._quote_recompute_discount_lines(
                discount_products | self.sale_discount_product_id
            )
        if {"quote_deviation_tolerance", "quote_approve_preexisting"} & set(vals):
            self.env["sale.order"]._quote_refresh_approval_states(self)
        if "quote_deviation_tolerance" in vals:
            # the tolerance moves quotes between the bands of the guidance
            self.env["quote.guidance.stat"]._refresh(self)
        return res

    def _quote_recompute_discount_lines(self, products):
        """Whether the lines of ``products`` are engine-priced follows the
        discount product of their company (Odoo's discount lines are not):
        only these lines, not every line of the companies."""
        if not products:
            return
        lines = (
            self.env["sale.order.line"]
            .sudo()
            .search(
                [("company_id", "in", self.ids), ("product_id", "in", products.ids)]
            )
        )
        self.env.add_to_compute(lines._fields["is_engine_priced"], lines)
        lines._recompute_recordset(["is_engine_priced"])
        # their deviation, and their orders' figures and approval, follow
        lines.modified(["is_engine_priced"])

    def _quote_create_default_authorities(self):
        """Give each company the default discount authorities it lacks:
        salesperson (own documents) 5%, salesperson (all documents) 10%,
        sales manager 30%."""
        defaults = [
            ("sales_team.group_sale_salesman", 5.0),
            ("sales_team.group_sale_salesman_all_leads", 10.0),
            ("sales_team.group_sale_manager", 30.0),
        ]
        authority_model = (
            self.env["quote.discount.authority"].sudo().with_context(active_test=False)
        )
        existing = authority_model.search([("company_id", "in", self.ids)])
        vals_list = []
        for company in self:
            known_groups = existing.filtered(
                lambda a, c=company: a.company_id == c
            ).group_id
            for xmlid, percent in defaults:
                group = self.env.ref(xmlid, raise_if_not_found=False)
                if group and group not in known_groups:
                    vals_list.append(
                        {
                            "company_id": company.id,
                            "group_id": group.id,
                            "max_deviation_percent": percent,
                        }
                    )
        return authority_model.create(vals_list)
