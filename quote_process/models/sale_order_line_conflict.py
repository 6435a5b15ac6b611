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
                and line.is_engine_priced
            )
        )
        (self - lines).price_conflict_warning = False
        if not lines:
            return
        since = fields.Datetime.subtract(
            fields.Datetime.now(), days=PRICE_CONFLICT_DAYS
        )
        partners = lines.order_id.partner_id.commercial_partner_id
        domain = (
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
            )
        )
        if len(lines.order_id) == 1 and lines.order_id._origin:
            # one quote's lines (its form): its other lines are no conflict
            domain &= Domain("order_id", "!=", lines.order_id._origin.id)
        # Read as rows: a customer's other quotes may hold thousands of lines,
        # each compared with the lines of this quote.
        query = self._search(domain)
        rows = self.env.execute_query(
            query.select(
                *(
                    self._field_to_sql(query.table, fname, query)
                    for fname in (
                        "id",
                        "order_id",
                        "order_partner_id",
                        "product_id",
                        "company_id",
                        "currency_id",
                        "price_unit",
                        "discount",
                    )
                )
            )
        )
        commercial = {
            partner.id: partner.commercial_partner_id.id
            for partner in self.env["res.partner"].browse({row[2] for row in rows})
        }
        other_orders = self.env["sale.order"].browse({row[1] for row in rows})
        other_orders.fetch(["name", "state"])
        by_key = defaultdict(list)
        for other_id, order_id, partner_id, product_id, company_id, *prices in rows:
            currency_id, price_unit, discount = prices
            by_key[(commercial[partner_id], product_id, company_id)].append(
                (
                    other_id,
                    other_orders.browse(order_id),
                    currency_id,
                    # as sale.order.line._get_discounted_price
                    (price_unit or 0.0) * (1 - (discount or 0.0) / 100.0),
                )
            )
        if not by_key:
            lines.price_conflict_warning = False
            return
        statuses = {
            True: self.env._("open quotation"),
            False: self.env._("confirmed order"),
        }
        customers = {
            order: order.partner_id.commercial_partner_id.id for order in lines.order_id
        }
        texts_by_line = {}
        for line in lines:
            order = line.order_id
            others = by_key.get(
                (customers[order], line.product_id.id, line.company_id.id)
            )
            if not others:
                continue
            currency = line.currency_id or line.company_id.currency_id
            # as sale.order.line._get_discounted_price
            price = line.price_unit * (1 - (line.discount or 0.0) / 100.0)
            origin_order_id, origin_line_id = order._origin.id, line._origin.id
            texts = [
                self.env._(
                    "%(document)s (%(status)s): %(price)s",
                    document=other_order.name,
                    status=statuses[other_order.state in QUOTATION_STATES],
                    price=format_amount(self.env, other_price, currency),
                )
                for other_id, other_order, currency_id, other_price in others
                if currency_id == currency.id
                and other_id != origin_line_id
                and other_order.id != origin_order_id
                and currency.compare_amounts(other_price, price)
            ]
            if texts:
                texts_by_line[line] = texts
        # the names of the products at another price only, in one batch
        products = self.env["product.product"].browse(
            {line.product_id.id for line in texts_by_line}
        )
        names = dict(zip(products.ids, products.mapped("display_name"), strict=True))
        for line in lines:
            texts = texts_by_line.get(line)
            line.price_conflict_warning = (
                self.env._(
                    "This customer has %(product)s at another price in:\n%(documents)s",
                    product=names[line.product_id.id],
                    documents="\n".join(texts),
                )
                if texts
                else False
            )
