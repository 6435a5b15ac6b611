from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..tools.formatting import format_number


class QuoteDiscountAuthority(models.Model):
    _name = "quote.discount.authority"
    _inherit = ["quote_process.input.check.mixin"]
    _description = "Discount Authority"
    _order = "company_id, max_deviation_percent, id"
    _check_company_auto = True

    group_id = fields.Many2one(
        "res.groups",
        string="Role",
        required=True,
        ondelete="cascade",
        help="Members of this group (directly or through an implied group) may "
        "quote this far below the engine price without approval.",
    )
    max_deviation_percent = fields.Float(
        string="Max. Below Engine Price (%)",
        required=True,
        digits=(16, 2),
        help="The largest deviation below the engine price this role may give on "
        "its own: 5 means down to 5% below the engine price.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        help="The company in which this authority applies.",
    )
    active = fields.Boolean(
        default=True,
        help="Archive the authority to stop applying it without deleting it.",
    )

    _group_company_uniq = models.Constraint(
        "UNIQUE(group_id, company_id)",
        "A role can have only one discount authority per company.",
    )

    @api.constrains("max_deviation_percent")
    def _check_max_deviation_percent(self):
        for authority in self:
            if not 0 <= authority.max_deviation_percent <= 100:
                raise ValidationError(
                    self.env._(
                        "The discount authority of %(group)s must be between 0 and "
                        "100 percent below the engine price; you entered %(value)s.",
                        group=authority.group_id.display_name,
                        value=authority.max_deviation_percent,
                    )
                )

    @api.depends("group_id", "max_deviation_percent")
    def _compute_display_name(self):
        for authority in self:
            authority.display_name = self.env._(
                "%(group)s: %(percent)s%%",
                group=authority.group_id.display_name or "",
                percent=format_number(self.env, authority.max_deviation_percent),
            )

    @api.model_create_multi
    def create(self, vals_list):
        authorities = super().create(vals_list)
        self.env.registry.clear_cache()  # _get_group_authority
        authorities._refresh_quote_approval_states(authorities.company_id)
        return authorities

    def write(self, vals):
        companies = self.company_id
        res = super().write(vals)
        self.env.registry.clear_cache()  # _get_group_authority
        self._refresh_quote_approval_states(companies | self.company_id)
        return res

    def unlink(self):
        companies = self.company_id
        res = super().unlink()
        self.env.registry.clear_cache()  # _get_group_authority
        self._refresh_quote_approval_states(companies)
        return res

    def _refresh_quote_approval_states(self, companies):
        """The open quotes of ``companies`` follow the new authorities."""
        if companies:
            self.env["sale.order"]._quote_refresh_approval_states(companies)

    @api.model
    def _get_user_authority(self, user, company):
        """Largest deviation below the engine price (a positive percentage) that
        ``user`` may give alone in ``company``: the largest of the authorities of
        the user's groups, implied groups included."""
        return self._get_group_authority(user.sudo()._get_group_ids(), company.id)

    @api.model
    @tools.ormcache("group_ids", "company_id")
    def _get_group_authority(self, group_ids, company_id):
        """The largest authority of ``group_ids`` in a company, kept in the
        registry's cache until an authority changes: the approval state of a
        quote is computed again at each change of its lines."""
        authorities = (
            self.sudo()
            .with_context(active_test=True)
            .search_fetch(
                [("company_id", "=", company_id), ("group_id", "in", list(group_ids))],
                ["max_deviation_percent"],
            )
        )
        return max(authorities.mapped("max_deviation_percent"), default=0.0)

    @api.model
    def _get_users_with_authority(self, percent, company):
        """Internal users of ``company`` whose authority covers ``percent``."""
        authorities = self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("max_deviation_percent", ">=", percent),
            ]
        )
        return self._get_company_users(authorities.group_id, company)

    @api.model
    def _get_company_users(self, groups, company):
        """Internal users of ``company`` in ``groups`` (implied groups too)."""
        if not groups:
            return self.env["res.users"]
        return (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("share", "=", False),
                    ("company_ids", "in", company.id),
                    ("all_group_ids", "in", groups.ids),
                ]
            )
        )
