from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        # a contact of a pricing rule that changes company changes the
        # commercial partner the engine compares (with its own contacts)
        moved = {"parent_id", "is_company"} & vals.keys() and self._quote_has_rules()
        res = super().write(vals)
        if moved:
            self.env.registry.clear_cache()  # quote.pricing.rule._get_engine_rule_values
        return res

    def unlink(self):
        # Their rules are deleted with them by the database, or were moved to
        # another partner by a merge of contacts (in SQL, before this unlink):
        # deleting contacts is rare, the cache is cleared each time.
        res = super().unlink()
        self.env.registry.clear_cache()  # quote.pricing.rule._get_engine_rule_values
        return res

    def _quote_has_rules(self):
        """Whether a pricing rule (archived ones included) is for one of these
        partners or of their contacts."""
        if not self.ids:
            return False
        return bool(
            self.env["quote.pricing.rule"]
            .sudo()
            .with_context(active_test=False)
            .search_count([("partner_id", "child_of", self.ids)], limit=1)
        )
