from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import (
    format_amount,
    format_date,
)

from .sale_order import QUOTATION_STATES


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Pricing engine
    # ------------------------------------------------------------------

    def action_reset_to_engine_price(self):
        """Set every line the engine prices back to the engine price, computed
        with the current rules, without discount; noted in the chatter."""
        not_quotes = self.filtered(lambda order: order.state not in ("draft", "sent"))
        if not_quotes:
            raise UserError(
                self.env._(
                    "Only quotations can be reset to the engine prices, and %(orders)s "
                    "is no longer one. Change the prices line by line, or create a "
                    "new quotation.",
                    orders=", ".join(not_quotes.mapped("display_name")),
                )
            )
        for order in self:
            lines = order.order_line.filtered(lambda line: line._is_engine_priced())
            if not lines:
                continue
            lines._recompute_engine_price()
            changes = []
            for line in lines:
                currency = line.currency_id
                price = line.engine_price_unit
                if (
                    not currency.compare_amounts(line.price_unit, price)
                    and not line.discount
                ):
                    continue
                changes.append(
                    Markup("<li>%s</li>")
                    % self.env._(
                        "%(product)s: %(old)s → %(new)s",
                        product=line.product_id.display_name,
                        old=line._get_engine_reset_description(),
                        new=format_amount(self.env, price, currency),
                    )
                )
                line.write(
                    {
                        "price_unit": price,
                        "technical_price_unit": price,
                        "discount": 0.0,
                    }
                )
            if changes:
                body = Markup("%s<ul>%s</ul>") % (
                    self.env._("Prices reset to the engine price:"),
                    Markup().join(changes),
                )
            else:
                body = self.env._("All lines were already at the engine price.")
            order.message_post(body=body)
        return True

    # ------------------------------------------------------------------
    # Promises and offers
    # ------------------------------------------------------------------

    @api.depends("opportunity_id")
    def _compute_payment_term_id(self):
        """New quotes of a customer get the payment terms promised to it."""
        res = super()._compute_payment_term_id()
        quotes = self.filtered(lambda order: order.state in QUOTATION_STATES)
        if not quotes.partner_id:
            return res
        terms = quotes._quote_promised_payment_terms()
        for order in quotes:
            term = terms.get(order)
            if term:
                order.payment_term_id = term
        return res

    def _quote_promised_payment_terms(self):
        """{order: the payment terms promised to its customer}, most recent
        promise first."""
        promises = (
            self.env["quote.promise"]
            .sudo()
            .search(
                Domain("promise_type", "=", "payment_terms")
                & Domain("state", "=", "active")
                & Domain("company_id", "in", self.company_id.ids)
                & (
                    Domain(
                        "partner_id",
                        "in",
                        self.partner_id.commercial_partner_id.ids,
                    )
                    | Domain("lead_id", "in", self.opportunity_id.ids)
                ),
                order="date_start desc, id desc",
            )
        )
        terms = {}
        for order in self:
            date = fields.Date.context_today(self, order.date_order or None)
            for promise in promises:
                if (
                    promise.company_id == order.company_id
                    and (
                        promise.partner_id == order.partner_id.commercial_partner_id
                        or (
                            promise.lead_id
                            and promise.lead_id == order.opportunity_id._origin
                        )
                    )
                    and promise.date_start <= date
                    and (not promise.date_end or promise.date_end >= date)
                ):
                    terms[order] = promise.payment_term_id
                    break
        return terms

    def _get_quote_offers(self):
        """The offers and terms this quote's customer is eligible for: its active
        promises, and the pricing rules shown to customers whose conditions on the
        customer hold for it (customer, tags, pricelist, team, dates) and that
        concern the quote's products. Used by the quote document, the quotation
        email and the customer portal.

        :return: list of dicts with ``name``, ``description``, ``date_start``,
            ``date_end``, ``kind`` (``promise`` or ``rule``)
        """
        self.ensure_one()
        # The customer-facing documents read the offers for the customer: the
        # caller's access to the quote itself is checked, then the offers are
        # read whatever the reader's rights on promises and rules.
        self.check_access("read")
        order = self.sudo()
        company = order.company_id
        partner = order.partner_id.commercial_partner_id
        if not partner:
            return []
        date = fields.Date.context_today(order, order.date_order or None)
        offers = []
        promises = (
            self.env["quote.promise"]
            .sudo()
            .search(
                Domain("company_id", "=", company.id)
                & Domain("state", "=", "active")
                & Domain("date_start", "<=", date)
                & (Domain("date_end", "=", False) | Domain("date_end", ">=", date))
                & (
                    Domain("partner_id", "=", partner.id)
                    | (
                        Domain("lead_id", "=", order.opportunity_id.id)
                        if order.opportunity_id
                        else Domain.FALSE
                    )
                ),
                order="date_start, id",
            )
        )
        for promise in promises:
            offers.append(
                {
                    "kind": "promise",
                    "name": promise.name,
                    "description": promise._get_customer_text(),
                    "date_start": promise.date_start,
                    "date_end": promise.date_end,
                }
            )
        rules = (
            self.env["quote.pricing.rule"]
            .sudo()
            .search(
                Domain("company_id", "=", company.id)
                & Domain("customer_visible", "=", True)
            )
        )
        if rules:
            products = order.order_line.filtered(
                lambda line: line._is_engine_priced()
            ).product_id
            categ_ids = {
                int(categ_id)
                for categ in products.categ_id
                for categ_id in (categ.parent_path or "").split("/")
                if categ_id
            }
            tag_ids = set((order.partner_id.category_id | partner.category_id).ids)
            for rule in rules:
                if not (
                    (
                        not rule.partner_id
                        or rule.partner_id.commercial_partner_id == partner
                    )
                    and (
                        not rule.partner_category_ids
                        or tag_ids & set(rule.partner_category_ids.ids)
                    )
                    and (
                        not rule.pricelist_id or rule.pricelist_id == order.pricelist_id
                    )
                    and (not rule.team_id or rule.team_id == order.team_id)
                    and (not rule.date_start or rule.date_start <= date)
                    and (not rule.date_end or rule.date_end >= date)
                    and (not rule.product_id or rule.product_id in products)
                    and (
                        not rule.product_tmpl_id
                        or rule.product_tmpl_id in products.product_tmpl_id
                    )
                    and (not rule.categ_id or rule.categ_id.id in categ_ids)
                ):
                    continue
                offers.append(
                    {
                        "kind": "rule",
                        "name": rule.name,
                        "description": rule.customer_description or rule.summary,
                        "date_start": rule.date_start,
                        "date_end": rule.date_end,
                    }
                )
        return offers

    def _quote_render_offers_email(self):
        """The offers section of the quotation email, or an empty string."""
        self.ensure_one()
        offers = self._get_quote_offers()
        if not offers:
            return Markup("")
        order = self.with_context(lang=self.partner_id.lang or self.env.lang)
        return order.env["ir.qweb"]._render(
            "quote_process.quote_offers_email",
            {"doc": order, "offers": offers, "format_date": order._quote_format_date},
        )

    def _quote_format_date(self, date):
        return format_date(self.env, date) if date else ""
