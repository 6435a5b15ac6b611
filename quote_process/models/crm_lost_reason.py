from odoo import api, fields, models

LOST_REASON_CATEGORIES = [
    ("price", "Price"),
    ("speed", "Speed"),
    ("competitor", "Competitor"),
    ("product", "Product Fit"),
    ("budget", "Budget"),
    ("relationship", "Relationship"),
    ("no_decision", "No Decision"),
    ("other", "Other"),
]

# Categories of the reasons CRM ships, by their external id.
CRM_REASON_CATEGORIES = {
    "crm.lost_reason_1": "price",  # Too expensive
    "crm.lost_reason_2": "product",  # We don't have people/skills
    "crm.lost_reason_3": "product",  # Not enough stock
}


class CrmLostReason(models.Model):
    _name = "crm.lost.reason"
    _inherit = ["crm.lost.reason", "quote_process.input.check.mixin"]

    category = fields.Selection(
        selection=LOST_REASON_CATEGORIES,
        default="other",
        required=True,
        help="Classification of the reason, used to compare losses in the quote "
        "analysis: price, speed, competitor, product fit, budget, relationship, "
        "no decision or other.",
    )
    quote_count = fields.Integer(
        string="Lost Quotations",
        compute="_compute_quote_count",
        groups="sales_team.group_sale_salesman",
        help="Number of lost quotations with this reason that you may see.",
    )

    # ------------------------------------------------------------------
    # Computes and searches
    # ------------------------------------------------------------------

    def _compute_quote_count(self):
        quote_data = self.env["sale.order"]._read_group(
            self._quote_lost_quotes_domain(),
            ["lost_reason_id"],
            ["__count"],
        )
        mapped_data = {reason.id: count for reason, count in quote_data}
        for reason in self:
            reason.quote_count = mapped_data.get(reason.id, 0)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @api.readonly
    def action_lost_quotes(self):
        return {
            "name": self.env._("Lost Quotations"),
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "view_mode": "list,form",
            "domain": self._quote_lost_quotes_domain(),
            "context": {"create": False},
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _quote_lost_quotes_domain(self):
        return [("lost_reason_id", "in", self.ids), ("quote_outcome", "=", "lost")]

    @api.model
    def _quote_categorise_crm_reasons(self):
        """Give CRM's own reasons a category (run once, at installation)."""
        for xmlid, category in CRM_REASON_CATEGORIES.items():
            reason = self.env.ref(xmlid, raise_if_not_found=False)
            if reason and reason.category == "other":
                reason.category = category
