from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# Quotes decided (won or lost) this many days back make the history.
GUIDANCE_HISTORY_DAYS = 365


class QuoteGuidanceStat(models.Model):
    """The decided quotes of the last 365 days, counted by product (and by
    category), customer tag and deviation from the engine price: what the
    price guidance of quote lines reads, so that a quote of 200 lines gets its
    guidance from a few hundred rows instead of the whole history.

    Refreshed every day by a scheduled action (and at installation); the bands
    are drawn from the deviations when read, with the company's tolerance of
    that moment.
    """

    _name = "quote.guidance.stat"
    _description = "Quote Process: Price Guidance Statistics"
    _log_access = False
    _order = "company_id, scope, res_id, tag_id, deviation"

    company_id = fields.Many2one(
        comodel_name="res.company", required=True, readonly=True, index=True
    )
    scope = fields.Selection(
        selection=[("product", "Product"), ("category", "Category")],
        required=True,
        readonly=True,
    )
    res_id = fields.Integer(
        string="Product or Category",
        required=True,
        readonly=True,
        help="The product (product.product) or the product category of the row.",
    )
    tag_id = fields.Many2one(
        comodel_name="res.partner.category",
        string="Customer Tag",
        readonly=True,
        ondelete="cascade",
        help="Quotes of customers with this tag only; empty: of all customers.",
    )
    deviation = fields.Float(
        digits=(16, 2),
        readonly=True,
        help="Deviation from the engine price in percent (negative = below), of "
        "the quote's lines of the product or category, weighted by their engine "
        "amount.",
    )
    decided = fields.Integer(readonly=True, help="Decided quotes at this deviation.")
    won = fields.Integer(readonly=True, help="Won quotes at this deviation.")

    _search_idx = models.Index("(company_id, scope, res_id, tag_id)")

    @api.model
    def _cron_refresh(self):
        self._refresh()

    @api.model
    def _refresh(self):
        """Count the history again, for every company, in SQL."""
        self.env["sale.order.line"].flush_model()
        self.env["sale.order"].flush_model()
        self.env["res.partner"].flush_model(["commercial_partner_id", "category_id"])
        since = fields.Date.context_today(self) - timedelta(days=GUIDANCE_HISTORY_DAYS)
        facts = {
            "product": SQL("l.product_id"),
            "category": SQL("t.categ_id"),
        }
        parts = []
        for scope, key in facts.items():
            parts.append(
                SQL(
                    """
                    facts_%(scope)s AS (
                        SELECT s.company_id,
                               %(key)s AS res_id,
                               customer.commercial_partner_id AS customer_id,
                               s.quote_outcome = 'won' AS won,
                               ROUND((SUM(l.deviation_percent * l.engine_price_unit
                                          * l.product_uom_qty)
                                      / SUM(l.engine_price_unit * l.product_uom_qty)
                                     )::numeric, 2) AS deviation
                          FROM sale_order_line l
                          JOIN sale_order s ON s.id = l.order_id
                          JOIN res_partner customer ON customer.id = s.partner_id
                          JOIN product_product p ON p.id = l.product_id
                          JOIN product_template t ON t.id = p.product_tmpl_id
                         WHERE %(key)s IS NOT NULL
                           AND s.quote_outcome IN ('won', 'lost')
                           AND COALESCE(s.lost_date, s.date_order::date) >= %(since)s
                           AND l.display_type IS NULL
                           AND l.engine_price_unit > 0
                           AND l.product_uom_qty > 0
                         GROUP BY s.id, 2, 3
                    )""",
                    scope=SQL(scope),
                    key=key,
                    since=since,
                )
            )
        selects = []
        for scope in facts:
            table = SQL(f"facts_{scope}")
            selects.append(
                SQL(
                    """
                    SELECT company_id, %(scope)s, res_id, NULL::int, deviation,
                           COUNT(*), COUNT(*) FILTER (WHERE won)
                      FROM %(table)s
                     GROUP BY company_id, res_id, deviation
                    UNION ALL
                    SELECT f.company_id, %(scope)s, f.res_id, rel.category_id,
                           f.deviation, COUNT(*), COUNT(*) FILTER (WHERE f.won)
                      FROM %(table)s f
                      JOIN res_partner_res_partner_category_rel rel
                        ON rel.partner_id = f.customer_id
                     GROUP BY f.company_id, f.res_id, rel.category_id, f.deviation
                    """,
                    scope=scope,
                    table=table,
                )
            )
        self.env.cr.execute(SQL("DELETE FROM quote_guidance_stat"))
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO quote_guidance_stat
                       (company_id, scope, res_id, tag_id, deviation, decided, won)
                WITH %(facts)s
                %(selects)s
                """,
                facts=SQL(",").join(parts),
                selects=SQL(" UNION ALL ").join(selects),
            )
        )
        self.invalidate_model()
