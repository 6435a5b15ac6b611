from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import (
    float_compare,
    format_amount,
    format_date,
)

from ..tools.pricing_engine import category_ids
from .sale_order import QUOTATION_STATES


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Computes and searches
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

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_reset_to_engine_price(self):
        """Set every line the engine prices back to the engine price, computed
        with the current rules, with the discount its pricelist shows; noted in
        the chatter."""
        not_quotes = self.filtered(lambda order: order.state not in QUOTATION_STATES)
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
            lines = order.order_line.filtered("is_engine_priced")
            if not lines:
                continue
            lines._recompute_engine_price()
            changes = []
            for line in lines:
                currency = line.currency_id
                price, discount = line._get_engine_line_prices()
                if not currency.compare_amounts(
                    line.price_unit, price
                ) and not float_compare(line.discount, discount, precision_digits=2):
                    continue
                changes.append(
                    Markup("<li>%s</li>")
                    % self.env._(
                        "%(product)s: %(old)s → %(new)s",
                        product=line.product_id.display_name,
                        old=line._get_engine_reset_description(),
                        new=format_amount(self.env, line.engine_price_unit, currency),
                    )
                )
                line.write(
                    {
                        "price_unit": price,
                        "technical_price_unit": price,
                        "discount": discount,
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

    def _recompute_prices(self):
        # Update Prices asks the pricelist again.
        self.env["sale.order.line"]._clear_engine_pricelist_memo()
        with self.order_line._quote_defer_deviation_check():
            return super()._recompute_prices()

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _get_engine_order_values(self):
        """What the order gives the engine and the offers, as plain values:
        its date (in the user's time zone), currency, commercial customer and
        its tags, pricelist, payment terms and method, team and opportunity."""
        self.ensure_one()
        company = self.company_id
        partner = self.partner_id
        return {
            "date": fields.Date.context_today(self, self.date_order or None),
            "currency": self.currency_id or company.currency_id,
            "partner_id": partner.commercial_partner_id.id,
            "tag_ids": frozenset(
                (partner.category_id | partner.commercial_partner_id.category_id).ids
            ),
            "pricelist_id": self.pricelist_id.id,
            "payment_term_id": self.payment_term_id.id,
            "payment_method_line_id": self.preferred_payment_method_line_id.id,
            "team_id": self.team_id.id,
            "opportunity_id": self.opportunity_id._origin.id,
        }

    def _quote_eligible_promises(self):
        """{order: its customer's valid promises (plain values), oldest first}."""
        partners = self.partner_id.commercial_partner_id
        if not partners:
            return {}
        promises = (
            self.env["quote.promise"]
            .sudo()
            ._get_engine_promises(
                self.company_id,
                set(partners.ids),
                set(self.opportunity_id._origin.ids),
            )
        )
        eligible = {}
        for order in self:
            order_values = order._get_engine_order_values()
            eligible[order] = [
                promise
                for promise in promises.get(order.company_id.id, ())
                if promise.matches_order(order_values)
            ]
        return eligible

    def _quote_promised_payment_terms(self):
        """{order: the payment terms promised to its customer}, the most recent
        promise first."""
        terms = {}
        for order, promises in self._quote_eligible_promises().items():
            promised = [p for p in promises if p.promise_type == "payment_terms"]
            if promised:
                latest = max(promised, key=lambda p: (p.date_start, p.id))
                terms[order] = self.env["account.payment.term"].browse(
                    latest.payment_term_id
                )
        return terms

    def _get_quote_offers(self):
        """The offers and terms this quote's customer is eligible for: its valid
        promises, and the pricing rules shown to customers whose conditions on
        the customer hold for it (customer, tags, pricelist, team, dates) and
        that concern the quote's products. Used by the quote document, the
        quotation email and the customer portal.

        :return: list of dicts with ``name``, ``description``, ``date_start``,
            ``date_end``, ``kind`` (``promise`` or ``rule``)
        """
        self.ensure_one()
        # The customer-facing documents read the offers for the customer: the
        # caller's access to the quote itself is checked, then the offers are
        # read whatever the reader's rights on promises and rules.
        self.check_access("read")
        order = self.sudo()
        if not order.partner_id:
            return []
        order_values = order._get_engine_order_values()
        offers = []
        promises = sorted(
            order._quote_eligible_promises().get(order, ()),
            key=lambda p: (p.date_start, p.id),
        )
        for promise in self.env["quote.promise"].sudo().browse(p.id for p in promises):
            offers.append(
                {
                    "kind": "promise",
                    "name": promise.name,
                    "description": promise._get_customer_text(),
                    "date_start": promise.date_start,
                    "date_end": promise.date_end,
                }
            )
        products = [
            (
                product.id,
                product.product_tmpl_id.id,
                category_ids(product.categ_id.parent_path),
            )
            for product in order.order_line.filtered("is_engine_priced").product_id
        ]
        rules = (
            self.env["quote.pricing.rule"]
            .sudo()
            ._get_engine_rules(order.company_id, [("customer_visible", "=", True)])
            .get(order.company_id.id, ())
        )
        shown = [
            rule.id
            for rule in rules
            if rule.matches_customer(order_values) and rule.concerns_products(products)
        ]
        for rule in self.env["quote.pricing.rule"].sudo().browse(shown):
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
