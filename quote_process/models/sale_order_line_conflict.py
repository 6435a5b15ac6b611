from collections import defaultdict

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import (
    format_amount,
)

from .sale_order import QUOTATION_STATES

# How far back confirmed orders count for the price conflict warning.
PRICE_CONFLICT_DAYS = 90


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # ------------------------------------------------------------------
    # One customer, one price
    # ------------------------------------------------------------------

    price_conflict_warning = fields.Text(
        string="Price Conflict",
        compute="_compute_price_conflict_warning",
        compute_sudo=True,
        help="The same product is in another open quotation, or in an order "
        "confirmed in the last 90 days, for this customer at a different price.",
    )

    @api.depends(
        "product_id",
        "price_unit",
        "discount",
        "order_id.partner_id",
        "order_id.company_id",
    )
    @api.depends_context("lang")
    def _compute_price_conflict_warning(self):
        lines = self.filtered(
            lambda line: (
                line.order_id.partner_id
                and line.order_id.state in QUOTATION_STATES
                and line._is_engine_priced()
            )
        )
        (self - lines).price_conflict_warning = False
        if not lines:
            return
        since = fields.Datetime.subtract(
            fields.Datetime.now(), days=PRICE_CONFLICT_DAYS
        )
        partners = lines.order_id.partner_id.commercial_partner_id
        others = self.search_fetch(
            Domain("product_id", "in", lines.product_id.ids)
            & Domain("order_partner_id.commercial_partner_id", "in", partners.ids)
            & Domain("company_id", "in", lines.company_id.ids)
            & Domain("display_type", "=", False)
            & (
                Domain("state", "in", list(QUOTATION_STATES))
                | (
                    Domain("state", "=", "sale")
                    & Domain("order_id.date_order", ">=", since)
                )
            ),
            ["order_id", "product_id", "price_unit", "discount", "currency_id"],
        )
        others.order_id.fetch(["name", "partner_id", "currency_id", "state"])
        by_key = defaultdict(list)
        for other in others:
            key = (
                other.order_id.partner_id.commercial_partner_id.id,
                other.product_id.id,
                other.company_id.id,
            )
            by_key[key].append(other)
        for line in lines:
            order = line.order_id
            key = (
                order.partner_id.commercial_partner_id.id,
                line.product_id.id,
                line.company_id.id,
            )
            currency = line.currency_id or line.company_id.currency_id
            price = line._get_discounted_price()
            texts = []
            for other in by_key.get(key, ()):
                if other.order_id == order._origin or other == line._origin:
                    continue
                if other.currency_id != currency:
                    continue
                other_price = other._get_discounted_price()
                if not currency.compare_amounts(other_price, price):
                    continue
                texts.append(
                    self.env._(
                        "%(document)s (%(status)s): %(price)s",
                        document=other.order_id.name,
                        status=self.env._("open quotation")
                        if other.order_id.state in QUOTATION_STATES
                        else self.env._("confirmed order"),
                        price=format_amount(self.env, other_price, currency),
                    )
                )
            if texts:
                line.price_conflict_warning = self.env._(
                    "This customer has %(product)s at another price in:\n%(documents)s",
                    product=line.product_id.display_name,
                    documents="\n".join(texts),
                )
            else:
                line.price_conflict_warning = False
