from odoo import models


class ResPartnerCategory(models.Model):
    _inherit = "res.partner.category"

    def write(self, vals):
        res = super().write(vals)
        if "active" in vals:
            # The pricing rules of an archived tag no longer read it.
            self.env.registry.clear_cache()  # quote.pricing.rule._get_engine_rule_values
        return res

    def unlink(self):
        res = super().unlink()
        # The pricing rules of a deleted tag lose it without being written.
        self.env.registry.clear_cache()  # quote.pricing.rule._get_engine_rule_values
        return res
