from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import float_is_zero, format_amount, format_date

from ..tools.formatting import format_number
from ..tools.pricing_engine import EnginePromise
from .input_check import check_client_values


class QuotePromise(models.Model):
    _name = "quote.promise"
    _description = "Quote Promise"
    _inherit = ["mail.thread"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Promise",
        required=True,
        tracking=True,
        help='What was promised, in a few words, e.g. "10% off desks for the '
        'framework agreement". Shown to the customer on their quotes.',
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="The promise applies to this company's quotes; its fixed price is in "
        "this company's currency.",
    )
    currency_id = fields.Many2one(
        related="company_id.currency_id",
        string="Company Currency",
        help="Currency of the promised fixed price.",
    )
    lead_id = fields.Many2one(
        comodel_name="crm.lead",
        string="Opportunity",
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
        tracking=True,
        help="The opportunity on which the promise was made. Quotes created from it "
        "get the promise too.",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        check_company=True,
        tracking=True,
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        precompute=True,
        help="The customer the promise was made to. It applies to all quotes of "
        "this customer's company, its contacts and addresses included.",
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Salesperson",
        index=True,
        tracking=True,
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('share', '=', False)]",
        help="Who made the promise: the opportunity's salesperson, or the person "
        "who recorded it.",
    )
    promise_type = fields.Selection(
        selection=[
            ("percent", "Discount"),
            ("fixed_price", "Fixed Unit Price"),
            ("payment_terms", "Payment Terms"),
        ],
        string="Type",
        required=True,
        default="percent",
        tracking=True,
        help="Discount: a percentage off the engine price. Fixed Unit Price: the "
        "unit price the customer pays. Payment Terms: terms granted to the customer, "
        "proposed on their new quotes.",
    )
    discount_percent = fields.Float(
        string="Discount (%)",
        digits="Discount",
        tracking=True,
        help="The promised discount, in percent of the price after the pricing "
        "rules: 10 means 10% off.",
    )
    fixed_price = fields.Monetary(
        string="Fixed Price",
        currency_field="currency_id",
        tracking=True,
        help="The promised unit price, in the company currency; converted to the "
        "quote's currency at the quote date.",
    )
    payment_term_id = fields.Many2one(
        comodel_name="account.payment.term",
        string="Payment Terms",
        check_company=True,
        tracking=True,
        help="The payment terms promised; the customer's new quotes get them.",
    )
    product_id = fields.Many2one(
        comodel_name="product.product",
        string="Product",
        check_company=True,
        tracking=True,
        help="Only this product. Leave empty, with the category too, for all products.",
    )
    categ_id = fields.Many2one(
        comodel_name="product.category",
        string="Product Category",
        tracking=True,
        help="Only products of this category or its subcategories.",
    )
    min_quantity = fields.Float(
        string="Minimum Quantity",
        digits="Product Unit",
        tracking=True,
        help="Only quote lines of at least this quantity, in the product's unit of "
        "measure. 0 means any quantity.",
    )
    date_start = fields.Date(
        string="Valid From",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="Quotes dated from this day get the promise.",
    )
    date_end = fields.Date(
        string="Valid Until",
        tracking=True,
        help="Quotes dated after this day no longer get the promise; it expires the "
        "next day. Empty: no end.",
    )
    state = fields.Selection(
        selection=[
            ("active", "Active"),
            ("expired", "Expired"),
            ("cancelled", "Cancelled"),
        ],
        string="Status",
        required=True,
        default="active",
        readonly=True,
        copy=False,
        tracking=True,
        help="Active: applies to the customer's quotes within its dates. Expired: "
        "its end date has passed. Cancelled: withdrawn.",
    )
    summary = fields.Char(
        compute="_compute_summary",
        help="What the customer gets, in plain words.",
    )

    _check_discount = models.Constraint(
        "CHECK(discount_percent >= 0 AND discount_percent <= 100)",
        "A promised discount is between 0 and 100%.",
    )
    _check_fixed_price = models.Constraint(
        "CHECK(fixed_price >= 0)",
        "A promised fixed price cannot be negative.",
    )
    _check_min_quantity = models.Constraint(
        "CHECK(min_quantity >= 0)",
        "The minimum quantity cannot be negative.",
    )
    _engine_idx = models.Index("(partner_id, company_id) WHERE state = 'active'")

    # ------------------------------------------------------------------
    # Computes and searches
    # ------------------------------------------------------------------

    @api.depends("lead_id")
    def _compute_partner_id(self):
        for promise in self:
            if promise.lead_id.partner_id:
                promise.partner_id = promise.lead_id.partner_id.commercial_partner_id
            elif not promise.partner_id:
                promise.partner_id = False

    @api.depends("lead_id")
    def _compute_user_id(self):
        for promise in self:
            promise.user_id = (
                promise.lead_id.user_id or promise.user_id or self.env.user
            )

    @api.depends(
        "promise_type",
        "discount_percent",
        "fixed_price",
        "payment_term_id",
        "product_id",
        "categ_id",
        "min_quantity",
        "currency_id",
    )
    @api.depends_context("lang")
    def _compute_summary(self):
        for promise in self:
            promise.summary = promise._get_customer_text()

    # ------------------------------------------------------------------
    # Constraints and onchanges
    # ------------------------------------------------------------------

    @api.constrains(
        "promise_type", "discount_percent", "fixed_price", "payment_term_id"
    )
    def _check_value(self):
        for promise in self:
            if promise.promise_type == "percent" and float_is_zero(
                promise.discount_percent, precision_digits=4
            ):
                raise ValidationError(
                    self.env._(
                        "Promise %(name)s is a discount: enter the promised "
                        "percentage, e.g. 10 for 10%% off.",
                        name=promise.name,
                    )
                )
            if promise.promise_type == "payment_terms" and not promise.payment_term_id:
                raise ValidationError(
                    self.env._(
                        "Promise %(name)s is about payment terms: select the "
                        "promised payment terms.",
                        name=promise.name,
                    )
                )

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for promise in self:
            if promise.date_end and promise.date_end < promise.date_start:
                raise ValidationError(
                    self.env._(
                        "Promise %(name)s ends on %(end)s, before it starts on "
                        "%(start)s. Enter an end date on or after the start date.",
                        name=promise.name,
                        start=format_date(self.env, promise.date_start),
                        end=format_date(self.env, promise.date_end),
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.pop("state", None)
            check_client_values(self, vals)
        promises = super().create(vals_list)
        promises._normalise_partner()
        promises._update_expired_state()
        promises._post_on_opportunity()
        promises._reprice_draft_quotes()
        return promises

    def write(self, vals):
        if "state" in vals and not self.env.su:
            raise UserError(
                self.env._(
                    "The status of a promise follows its dates; use Cancel to "
                    "withdraw it."
                )
            )
        check_client_values(self, vals)
        res = super().write(vals)
        if "partner_id" in vals or "lead_id" in vals:
            self._normalise_partner()
        if "date_end" in vals:
            self._update_expired_state()
        if set(vals) & {
            "partner_id",
            "lead_id",
            "promise_type",
            "discount_percent",
            "fixed_price",
            "product_id",
            "categ_id",
            "min_quantity",
            "date_start",
            "date_end",
            "company_id",
        }:
            self._reprice_draft_quotes()
        return res

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_cancel(self):
        """Withdraw the promises: they no longer apply to quotes."""
        to_cancel = self.filtered(lambda p: p.state != "cancelled")
        # The write access of the user on each promise is checked here; the
        # status itself is only written by this action and the expiry.
        to_cancel.check_access("write")
        to_cancel.sudo().state = "cancelled"
        for promise in to_cancel.filtered("lead_id"):
            promise.lead_id.message_post(
                body=self.env._("Promise cancelled: %(name)s", name=promise.name),
                subtype_xmlid="mail.mt_note",
            )
        to_cancel._reprice_draft_quotes()
        return True

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _get_customer_text(self):
        """The promise as the customer reads it."""
        self.ensure_one()
        _ = self.env._
        if self.promise_type == "percent":
            text = _(
                "%(percent)s%% off",
                percent=format_number(self.env, self.discount_percent),
            )
        elif self.promise_type == "fixed_price":
            text = _(
                "a unit price of %(price)s",
                price=format_amount(
                    self.env,
                    self.fixed_price,
                    self.currency_id or self.env.company.currency_id,
                ),
            )
        else:
            text = _(
                "payment terms: %(terms)s",
                terms=self.payment_term_id.name or "",
            )
        if self.product_id:
            text = _(
                "%(offer)s on %(scope)s", offer=text, scope=self.product_id.display_name
            )
        elif self.categ_id:
            text = _(
                "%(offer)s on all %(scope)s products",
                offer=text,
                scope=self.categ_id.name,
            )
        if self.min_quantity:
            text = _(
                "%(offer)s, from %(quantity)s units",
                offer=text,
                quantity=format_number(self.env, self.min_quantity),
            )
        return text

    def _normalise_partner(self):
        """Promises are made to the customer's company (commercial entity)."""
        for promise in self:
            commercial = promise.partner_id.commercial_partner_id
            if commercial and commercial != promise.partner_id:
                promise.partner_id = commercial

    def _update_expired_state(self, today=None):
        today = today or fields.Date.context_today(self)
        expired = self.filtered(
            lambda p: p.state == "active" and p.date_end and p.date_end < today
        )
        if expired:
            expired.sudo().state = "expired"
        revived = self.filtered(
            lambda p: p.state == "expired" and (not p.date_end or p.date_end >= today)
        )
        if revived:
            revived.sudo().state = "active"
        return expired

    def _post_on_opportunity(self):
        for promise in self.filtered("lead_id"):
            promise.lead_id.message_post(
                body=Markup("%s<br/>%s")
                % (
                    self.env._("Promise recorded: %(name)s", name=promise.name),
                    promise._get_validity_text(),
                )
                + Markup("<br/>")
                + promise._get_customer_text(),
                subtype_xmlid="mail.mt_note",
            )

    def _get_validity_text(self):
        self.ensure_one()
        if self.date_end:
            return self.env._(
                "Valid from %(start)s to %(end)s",
                start=format_date(self.env, self.date_start),
                end=format_date(self.env, self.date_end),
            )
        return self.env._(
            "Valid from %(start)s", start=format_date(self.env, self.date_start)
        )

    def _reprice_draft_quotes(self):
        """Draft quotes of the customers follow their promises; sent quotes and
        orders keep the price the customer has seen."""
        if not self:
            return
        lines = (
            self.env["sale.order.line"]
            .sudo()
            .search(
                Domain("order_id.state", "=", "draft")
                & Domain("company_id", "in", self.company_id.ids)
                & (
                    Domain(
                        "order_id.partner_id.commercial_partner_id",
                        "in",
                        self.partner_id.ids,
                    )
                    | Domain("order_id.opportunity_id", "in", self.lead_id.ids)
                )
            )
        )
        if lines:
            lines._recompute_engine_price()

    @api.model
    def _get_engine_promises(self, companies, partner_ids, lead_ids):
        """Active promises of ``companies`` for these commercial partners or
        opportunities, as plain values: {company id: [EnginePromise, ...]}, in
        the order they were made."""
        domain = Domain("company_id", "in", companies.ids) & Domain(
            "state", "=", "active"
        )
        partner_domain = Domain("partner_id", "in", list(partner_ids))
        if lead_ids:
            partner_domain |= Domain("lead_id", "in", list(lead_ids))
        promises = self.search_fetch(
            domain & partner_domain,
            [
                "name",
                "company_id",
                "partner_id",
                "lead_id",
                "promise_type",
                "discount_percent",
                "fixed_price",
                "payment_term_id",
                "product_id",
                "categ_id",
                "min_quantity",
                "date_start",
                "date_end",
            ],
            order="id",
        )
        promises.lead_id.fetch(["name"])
        by_company = defaultdict(list)
        for promise in promises:
            by_company[promise.company_id.id].append(EnginePromise(promise))
        return by_company

    # ------------------------------------------------------------------
    # Scheduled actions
    # ------------------------------------------------------------------

    @api.model
    def _cron_expire_promises(self, batch_size=1000):
        """Daily: promises past their end date become expired, in batches."""
        today = fields.Date.context_today(self)
        ids = self.search(
            [("state", "=", "active"), ("date_end", "<", today)], order="id"
        ).ids
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(ids))
        expired = 0
        for start in range(0, len(ids), batch_size):
            chunk = self.browse(ids[start : start + batch_size])
            expired += len(chunk._update_expired_state(today))
            if not cron._commit_progress(
                len(chunk), remaining=len(ids) - start - len(chunk)
            ):
                break
        return expired
