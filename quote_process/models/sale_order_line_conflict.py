from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import (
    SQL,
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
        conflicts = lines._get_price_conflicts()
        statuses = {
            True: self.env._("open quotation"),
            False: self.env._("confirmed order"),
        }
        # the names of the products at another price only, in one batch
        products = self.env["product.product"].browse(
            {line.product_id.id for line in conflicts}
        )
        names = dict(zip(products.ids, products.mapped("display_name"), strict=True))
        for line in lines:
            others = conflicts.get(line)
            if not others:
                line.price_conflict_warning = False
                continue
            currency = line.currency_id or line.company_id.currency_id
            documents = "\n".join(
                self.env._(
                    "%(document)s (%(status)s): %(price)s",
                    document=other_order.name,
                    status=statuses[other_order.state in QUOTATION_STATES],
                    price=format_amount(self.env, other_price, currency),
                )
                for other_order, other_price in others
            )
            line.price_conflict_warning = self.env._(
                "This customer has %(product)s at another price in:\n%(documents)s",
                product=names[line.product_id.id],
                documents=documents,
            )

    def _get_price_conflicts(self):
        """The lines of the customer's other quotations, and of its orders
        confirmed in the last ``PRICE_CONFLICT_DAYS`` days, with the product of
        each of these lines at another price (unit price less discount, in the
        same currency and company), never those of the line's own quotation.

        The prices are compared in the database first (the lines of a
        customer's other quotes may be thousands, most at the same price): only
        the lines at least half the currency's rounding away from the line's
        rounded price come back, a superset of those that
        ``currency.compare_amounts`` (rounding both prices) finds different,
        which then decides.
        The other lines' prices are computed there as Odoo's
        ``_get_discounted_price`` does (an override of it applies to this
        batch's lines only).

        :return: dict {line: [(other order, other line's discounted price)]}
            with the lines that have such other lines only
        """
        since = fields.Datetime.subtract(
            fields.Datetime.now(), days=PRICE_CONFLICT_DAYS
        )
        prices = {}
        candidates = []
        for index, line in enumerate(self):
            currency = line.currency_id or line.company_id.currency_id
            prices[index] = line._get_discounted_price()
            candidates.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s::numeric, %s::numeric, %s, %s)",
                    index,
                    line.product_id.id,
                    line.order_id.partner_id.commercial_partner_id.id,
                    line.company_id.id,
                    currency.id,
                    # rounded: a price rounds to another amount than this one
                    # only from half a rounding away from it
                    currency.round(prices[index]),
                    currency.rounding / 2,
                    line.order_id._origin.id or 0,
                    line._origin.id or 0,
                )
            )
        self.env["sale.order.line"].flush_model(
            [
                "product_id",
                "order_partner_id",
                "company_id",
                "currency_id",
                "display_type",
                "state",
                "order_id",
                "price_unit",
                "discount",
            ]
        )
        self.env["sale.order"].flush_model(["date_order"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        # one quote's lines (its form): its other lines are no conflict
        own_order_id = len(self.order_id) == 1 and self.order_id._origin.id or 0
        # the customer's other lines first (as few as its quotes and recent
        # orders hold), then compared with each line of this batch
        rows = self.env.execute_query(
            SQL(
                """
                WITH other AS MATERIALIZED (
                    SELECT line.id, line.order_id, line.product_id, line.company_id,
                           line.currency_id, partner.commercial_partner_id,
                           line.price_unit * (1 - COALESCE(line.discount, 0) / 100)
                               AS price
                      FROM sale_order_line line
                      JOIN res_partner partner ON partner.id = line.order_partner_id
                      JOIN sale_order other_order ON other_order.id = line.order_id
                     WHERE line.product_id IN %(product_ids)s
                       AND partner.commercial_partner_id IN %(partner_ids)s
                       AND line.company_id IN %(company_ids)s
                       AND line.order_id != %(own_order_id)s
                       AND line.display_type IS NULL
                       AND (line.state IN %(quotation_states)s
                            OR (line.state = 'sale' AND other_order.date_order >= %(since)s))
                )
                SELECT candidate.idx, other.order_id, other.price
                  FROM (VALUES %(candidates)s) AS candidate(
                           idx, product_id, partner_id, company_id,
                           currency_id, price, half_rounding, order_id, line_id)
                  JOIN other
                    ON other.product_id = candidate.product_id
                   AND other.commercial_partner_id = candidate.partner_id
                   AND other.company_id = candidate.company_id
                   AND other.currency_id = candidate.currency_id
                   AND other.order_id != candidate.order_id
                   AND other.id != candidate.line_id
                   AND ABS(other.price - candidate.price) >= candidate.half_rounding * 0.99
                 ORDER BY other.order_id, other.id
                """,
                product_ids=tuple(self.product_id.ids),
                partner_ids=tuple(self.order_id.partner_id.commercial_partner_id.ids),
                company_ids=tuple(self.company_id.ids),
                quotation_states=tuple(QUOTATION_STATES),
                since=since,
                own_order_id=own_order_id,
                candidates=SQL(", ").join(candidates),
            )
        )
        orders = self.env["sale.order"].browse({row[1] for row in rows})
        orders.fetch(["name", "state"])
        conflicts = defaultdict(list)
        for index, order_id, other_price in rows:
            line = self[index]
            currency = line.currency_id or line.company_id.currency_id
            other_price = float(other_price)
            if currency.compare_amounts(other_price, prices[index]):
                conflicts[line].append((orders.browse(order_id), other_price))
        return conflicts
