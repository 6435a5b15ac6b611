from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import (
    float_is_zero,
    format_amount,
    format_date,
    format_list,
)

from ..tools.formatting import format_number
from ..tools.pricing_engine import EngineRule


class QuotePricingRule(models.Model):
    _name = "quote.pricing.rule"
    _inherit = ["quote_process.input.check.mixin"]
    _description = "Quote Pricing Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(
        required=True,
        translate=True,
        help="Short name of the rule, shown to salespeople in the price explanation "
        "of each quote line.",
    )
    sequence = fields.Integer(
        default=10,
        help="Matching rules apply one after the other, lowest sequence first; drag "
        "the rows of the list to reorder them.",
    )
    active = fields.Boolean(
        default=True,
        help="Archived rules no longer apply to quote lines.",
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="The rule only prices quotes of this company; its amounts are in this "
        "company's currency.",
    )
    currency_id = fields.Many2one(
        related="company_id.currency_id",
        string="Company Currency",
        help="Currency of the rule's amounts; they are converted to the quote's "
        "currency at the quote date.",
    )
    rule_type = fields.Selection(
        selection=[
            ("base", "Base Price"),
            ("payment", "Payment Terms"),
            ("volume", "Volume"),
            ("customer", "Customer"),
            ("promotion", "Promotion"),
        ],
        string="Type",
        required=True,
        default="base",
        help="What the rule is about, for filtering and reporting; it does not "
        "change how the rule is applied.",
    )

    # Conditions: each is optional, all that are set must match.
    product_id = fields.Many2one(
        comodel_name="product.product",
        string="Product Variant",
        ondelete="cascade",
        check_company=True,
        help="Only quote lines of this product variant.",
    )
    product_tmpl_id = fields.Many2one(
        comodel_name="product.template",
        string="Product",
        ondelete="cascade",
        check_company=True,
        help="Only quote lines of this product (any of its variants).",
    )
    categ_id = fields.Many2one(
        comodel_name="product.category",
        string="Product Category",
        ondelete="cascade",
        help="Only quote lines of products in this category or one of its "
        "subcategories.",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        ondelete="cascade",
        check_company=True,
        help="Only quotes of this customer, including its contacts and addresses "
        "(the rule compares commercial entities).",
    )
    partner_category_ids = fields.Many2many(
        comodel_name="res.partner.category",
        relation="quote_pricing_rule_partner_category_rel",
        column1="rule_id",
        column2="category_id",
        string="Customer Tags",
        help="Only quotes of customers with at least one of these tags (on the "
        "contact or on its company).",
    )
    pricelist_id = fields.Many2one(
        comodel_name="product.pricelist",
        string="Pricelist",
        ondelete="cascade",
        check_company=True,
        help="Only quotes that use this pricelist.",
    )
    payment_term_id = fields.Many2one(
        comodel_name="account.payment.term",
        string="Payment Terms",
        ondelete="cascade",
        check_company=True,
        help="Only quotes with these payment terms.",
    )
    payment_method_line_id = fields.Many2one(
        comodel_name="account.payment.method.line",
        string="Payment Method",
        ondelete="cascade",
        check_company=True,
        domain="[('payment_type', '=', 'inbound'), ('company_id', '=', company_id)]",
        help="Only quotes whose payment method is this one.",
    )
    min_quantity = fields.Float(
        string="Minimum Quantity",
        digits="Product Unit",
        help="Only quote lines of at least this quantity, counted in the product's "
        "unit of measure. 0 means any quantity.",
    )
    date_start = fields.Date(
        string="Valid From",
        help="Only quotes dated on or after this day. Empty means no start.",
    )
    date_end = fields.Date(
        string="Valid Until",
        help="Only quotes dated on or before this day. Empty means no end.",
    )
    team_id = fields.Many2one(
        comodel_name="crm.team",
        string="Sales Team",
        ondelete="cascade",
        check_company=True,
        help="Only quotes of this sales team.",
    )

    # Adjustment
    adjustment_type = fields.Selection(
        selection=[
            ("percent", "Percentage"),
            ("fixed_amount", "Amount per Unit"),
            ("fixed_price", "Fixed Unit Price"),
        ],
        required=True,
        default="percent",
        help="Percentage: changes the running price by a percentage. Amount per "
        "Unit: adds or takes off an amount per unit. Fixed Unit Price: replaces "
        "the running price.",
    )
    adjustment_value = fields.Float(
        string="Adjustment",
        digits="Product Price",
        help="Percentage: -5 lowers the price by 5%, 3 raises it by 3%. Amount per "
        "Unit: -10 takes 10 off each unit, in the company currency. Fixed Unit "
        "Price: the unit price, in the company currency.",
    )
    stop_processing = fields.Boolean(
        string="Stop Here",
        help="When this rule applies, no later rule is applied to the line.",
    )
    customer_visible = fields.Boolean(
        string="Show to Customer",
        help="Tell the customer about this rule on the quotes where it applies "
        "(for promotions and discount terms).",
    )
    customer_description = fields.Text(
        translate=True,
        help='What the customer reads about this rule on the quote, e.g. "2% '
        'off for payment within 10 days".',
    )
    summary = fields.Text(
        compute="_compute_summary",
        help="What the rule does, in plain words.",
    )

    # ------------------------------------------------------------------
    # Computes and searches
    # ------------------------------------------------------------------

    @api.depends(
        "adjustment_type",
        "adjustment_value",
        "product_id",
        "product_tmpl_id",
        "categ_id",
        "partner_id",
        "partner_category_ids",
        "pricelist_id",
        "payment_term_id",
        "payment_method_line_id",
        "min_quantity",
        "date_start",
        "date_end",
        "team_id",
        "stop_processing",
        "currency_id",
    )
    @api.depends_context("lang")
    def _compute_summary(self):
        for rule in self:
            effect = rule._summary_effect()
            conditions = rule._summary_conditions()
            if conditions:
                text = self.env._(
                    "%(effect)s for %(conditions)s.",
                    effect=effect,
                    conditions=format_list(self.env, conditions),
                )
            else:
                text = self.env._("%(effect)s on every quote line.", effect=effect)
            if rule.stop_processing:
                text += " " + self.env._("No later rule is applied after this one.")
            rule.summary = text

    # ------------------------------------------------------------------
    # Constraints and onchanges
    # ------------------------------------------------------------------

    @api.constrains("adjustment_type", "adjustment_value")
    def _check_adjustment(self):
        digits = self.env["decimal.precision"].precision_get("Product Price")
        for rule in self:
            value = rule.adjustment_value
            if rule.adjustment_type == "percent" and value < -100:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s lowers the price by more than 100%%. Enter a "
                        "percentage of -100 or more.",
                        rule=rule.name,
                    )
                )
            if rule.adjustment_type == "fixed_price" and value < 0:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s sets a negative unit price. Enter a fixed "
                        "price of 0 or more.",
                        rule=rule.name,
                    )
                )
            if rule.adjustment_type in ("percent", "fixed_amount") and float_is_zero(
                value, precision_digits=digits
            ):
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s does not change the price. Enter the "
                        "adjustment, e.g. -5 for 5%% off or 10 for 10 more per unit.",
                        rule=rule.name,
                    )
                )

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for rule in self:
            if rule.date_start and rule.date_end and rule.date_end < rule.date_start:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s ends on %(end)s, before it starts on %(start)s. "
                        "Enter an end date on or after the start date.",
                        rule=rule.name,
                        start=format_date(self.env, rule.date_start),
                        end=format_date(self.env, rule.date_end),
                    )
                )

    @api.constrains("min_quantity")
    def _check_min_quantity(self):
        for rule in self:
            if rule.min_quantity < 0:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s has a negative minimum quantity. Enter 0 (any "
                        "quantity) or more.",
                        rule=rule.name,
                    )
                )

    @api.constrains("company_id", "pricelist_id")
    def _check_pricelist_company(self):
        for rule in self:
            pricelist_company = rule.pricelist_id.company_id
            if pricelist_company and pricelist_company != rule.company_id:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s belongs to %(rule_company)s but its pricelist "
                        "%(pricelist)s belongs to %(pricelist_company)s. Choose a "
                        "pricelist of %(rule_company)s or a shared one, or create the "
                        "rule in %(pricelist_company)s.",
                        rule=rule.name,
                        rule_company=rule.company_id.name,
                        pricelist=rule.pricelist_id.display_name,
                        pricelist_company=pricelist_company.name,
                    )
                )

    @api.constrains("product_id", "product_tmpl_id")
    def _check_product_variant(self):
        for rule in self:
            if (
                rule.product_id
                and rule.product_tmpl_id
                and rule.product_id.product_tmpl_id != rule.product_tmpl_id
            ):
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s can never apply: variant %(variant)s is not a "
                        "variant of product %(product)s. Clear one of the two.",
                        rule=rule.name,
                        variant=rule.product_id.display_name,
                        product=rule.product_tmpl_id.display_name,
                    )
                )

    # Onchanges are conveniences only: the engine never relies on them.
    @api.onchange("product_id")
    def _onchange_product_id(self):
        if self.product_id:
            self.product_tmpl_id = self.product_id.product_tmpl_id

    @api.onchange("product_tmpl_id")
    def _onchange_product_tmpl_id(self):
        if self.product_id and self.product_id.product_tmpl_id != self.product_tmpl_id:
            self.product_id = False

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _summary_effect(self):
        self.ensure_one()
        value = self.adjustment_value
        currency = self.currency_id or self.env.company.currency_id
        if self.adjustment_type == "percent":
            percent = format_number(self.env, abs(value))
            if value < 0:
                return self.env._("Lowers the price by %(percent)s%%", percent=percent)
            return self.env._("Raises the price by %(percent)s%%", percent=percent)
        amount = format_amount(self.env, abs(value), currency)
        if self.adjustment_type == "fixed_amount":
            if value < 0:
                return self.env._(
                    "Takes %(amount)s off the price of each unit", amount=amount
                )
            return self.env._(
                "Adds %(amount)s to the price of each unit", amount=amount
            )
        return self.env._("Sets the unit price to %(amount)s", amount=amount)

    def _summary_conditions(self):
        self.ensure_one()
        _ = self.env._
        conditions = []
        if self.product_id:
            conditions.append(_("product %(name)s", name=self.product_id.display_name))
        if self.product_tmpl_id:
            conditions.append(
                _("product %(name)s", name=self.product_tmpl_id.display_name)
            )
        if self.categ_id:
            conditions.append(
                _(
                    "products of category %(name)s and its subcategories",
                    name=self.categ_id.display_name,
                )
            )
        if self.partner_id:
            conditions.append(_("customer %(name)s", name=self.partner_id.display_name))
        if self.partner_category_ids:
            conditions.append(
                _(
                    "customers tagged %(tags)s",
                    tags=format_list(
                        self.env,
                        self.partner_category_ids.mapped("display_name"),
                        style="or",
                    ),
                )
            )
        if self.pricelist_id:
            conditions.append(
                _("pricelist %(name)s", name=self.pricelist_id.display_name)
            )
        if self.payment_term_id:
            conditions.append(
                _("payment terms %(name)s", name=self.payment_term_id.display_name)
            )
        if self.payment_method_line_id:
            conditions.append(
                _(
                    "payment method %(name)s",
                    name=self.payment_method_line_id.display_name,
                )
            )
        if self.team_id:
            conditions.append(_("sales team %(name)s", name=self.team_id.display_name))
        if self.min_quantity:
            conditions.append(
                _(
                    "%(quantity)s units or more",
                    quantity=format_number(self.env, self.min_quantity),
                )
            )
        if self.date_start and self.date_end:
            conditions.append(
                _(
                    "quotes dated from %(start)s to %(end)s",
                    start=format_date(self.env, self.date_start),
                    end=format_date(self.env, self.date_end),
                )
            )
        elif self.date_start:
            conditions.append(
                _(
                    "quotes dated from %(start)s",
                    start=format_date(self.env, self.date_start),
                )
            )
        elif self.date_end:
            conditions.append(
                _(
                    "quotes dated until %(end)s",
                    end=format_date(self.env, self.date_end),
                )
            )
        return conditions

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env.registry.clear_cache()  # _get_engine_rule_values
        return rules

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()  # _get_engine_rule_values
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()  # _get_engine_rule_values
        return res

    @api.model
    def _get_engine_rules(self, companies, domain=None):
        """Active rules of ``companies`` (and of ``domain``, if given) in
        evaluation order, as plain values. Without ``domain``, the rules'
        values are kept in the registry's cache until a rule changes: the
        engine reads them on every save, for a single line too.

        :return: {company id: [EngineRule, ...]}
        """
        if domain is None:
            values = [
                rule_values
                for company_id in companies.ids
                for rule_values in self._get_engine_rule_values(company_id)
            ]
        else:
            values = self._read_engine_rule_values(
                Domain("company_id", "in", companies.ids) & Domain(domain)
            )
        by_company = defaultdict(list)
        for position, rule_values in enumerate(values):
            by_company[rule_values["company_id"]].append(
                EngineRule(rule_values, position)
            )
        return by_company

    @api.model
    @tools.ormcache("company_id")
    def _get_engine_rule_values(self, company_id):
        """The active rules of a company as the engine reads them, as
        superuser (the engine prices every salesperson's quotes alike);
        cleared when a rule or a customer tag is created, changed or
        deleted, or when a customer of a rule moves to another company.
        Read-only."""
        return tuple(
            self.sudo()
            .with_context(active_test=True)
            ._read_engine_rule_values(Domain("company_id", "=", company_id))
        )

    @api.model
    def _read_engine_rule_values(self, domain):
        """The rules of ``domain`` in evaluation order, each as a dict of the
        values an EngineRule is made of."""
        rules = self.search_fetch(
            domain,
            [
                "company_id",
                "product_id",
                "product_tmpl_id",
                "categ_id",
                "partner_id",
                "partner_category_ids",
                "pricelist_id",
                "payment_term_id",
                "payment_method_line_id",
                "team_id",
                "min_quantity",
                "date_start",
                "date_end",
                "adjustment_type",
                "adjustment_value",
                "stop_processing",
            ],
            order="sequence, id",
        )
        return [
            {
                "id": rule.id,
                "company_id": rule.company_id.id,
                "product_id": rule.product_id.id,
                "product_tmpl_id": rule.product_tmpl_id.id,
                "categ_id": rule.categ_id.id,
                # a rule for a contact holds for its company
                "partner_id": rule.partner_id.commercial_partner_id.id,
                "tag_ids": frozenset(rule.partner_category_ids.ids),
                "pricelist_id": rule.pricelist_id.id,
                "payment_term_id": rule.payment_term_id.id,
                "payment_method_line_id": rule.payment_method_line_id.id,
                "team_id": rule.team_id.id,
                "min_quantity": rule.min_quantity,
                "date_start": rule.date_start,
                "date_end": rule.date_end,
                "adjustment_type": rule.adjustment_type,
                "adjustment_value": rule.adjustment_value,
                "stop_processing": rule.stop_processing,
            }
            for rule in rules
        ]
