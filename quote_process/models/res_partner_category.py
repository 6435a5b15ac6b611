from odoo import models


class ResPartnerCategory(models.Model):
    _inherit = "res.partner.category"

    def unlink(self):
        res = super().unlink()
        # The pricing rules of a deleted tag lose it without being written.
        self.env.registry.clear_cache()  # quote.pricing.rule._get_engine_rule_values
        return res
