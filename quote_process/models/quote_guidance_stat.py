from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.deviation_band import DEVIATION_BANDS, deviation_band_sql

# Quotes decided (won or lost) this many days back make the history.
GUIDANCE_HISTORY_DAYS = 365


class QuoteGuidanceStat(models.Model):
    """The decided quotes of the last 365 days, counted by product (and by
    category), customer tag and deviation band: what the price guidance of
    quote lines reads, so that a quote of 200 lines gets its guidance from a
    few rows per product instead of the whole history.

    Counted again every day by a scheduled action, at installation and when a
    company changes its tolerance (which moves quotes between bands). A row
    without band holds the totals of its product (or category) and tag, with
    the median deviation of the won quotes.
    """

    _name = "quote.guidance.stat"
    _description = "Quote Process: Price Guidance Statistics"
    _log_access = False
    _order = "company_id, scope, res_id, tag_id, band"

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
    band = fields.Selection(
        selection=DEVIATION_BANDS,
        string="Deviation Band",
        readonly=True,
        help="The quotes whose deviation from the engine price, on the lines of "
        "this product or category, lies in this band; empty: all of them.",
    )
    decided = fields.Integer(readonly=True, help="Decided (won or lost) quotes.")
    won = fields.Integer(readonly=True, help="Won quotes.")
    median_won_deviation = fields.Float(
        digits=(16, 2),
        readonly=True,
        help="Median deviation of the won quotes in percent (negative = below the "
        "engine price); on the rows without band.",
    )

    _search_idx = models.Index("(company_id, scope, res_id, tag_id)")

    @api.model
    def _cron_refresh(self):
        self._refresh()

    @api.model
    def _refresh(self, companies=None):
        """Count the history again in SQL, for ``companies`` (default: all).

        A quote counts once per product (and per category) it holds: its
        deviation there is that of its lines of it, weighted by their engine
        amount, and goes in a band by the company's tolerance.
        """
        self.env["sale.order.line"].flush_model()
        self.env["sale.order"].flush_model()
        self.env["res.partner"].flush_model(["commercial_partner_id", "category_id"])
        self.env["res.company"].flush_model(["quote_deviation_tolerance"])
        since = fields.Date.context_today(self) - timedelta(days=GUIDANCE_HISTORY_DAYS)
        if companies is None:
            company_filter = SQL("TRUE")
        else:
            company_filter = SQL("s.company_id = ANY(%s)", companies.ids)
        facts = SQL(" UNION ALL ").join(
            SQL(
                """
                SELECT s.company_id,
                       %(scope)s AS scope,
                       %(key)s AS res_id,
                       customer.commercial_partner_id AS customer_id,
                       s.quote_outcome = 'won' AS won,
                       SUM(l.deviation_percent * l.engine_price_unit
                           * l.product_uom_qty)
                         / SUM(l.engine_price_unit * l.product_uom_qty) AS deviation
                  FROM sale_order_line l
                  JOIN sale_order s ON s.id = l.order_id
                  JOIN res_partner customer ON customer.id = s.partner_id
                  JOIN product_product p ON p.id = l.product_id
                  JOIN product_template t ON t.id = p.product_tmpl_id
                 WHERE %(key)s IS NOT NULL
                   AND %(company_filter)s
                   AND s.quote_outcome IN ('won', 'lost')
                   AND COALESCE(s.lost_date, s.date_order::date) >= %(since)s
                   AND l.display_type IS NULL
                   AND l.engine_price_unit > 0
                   AND l.product_uom_qty > 0
                 GROUP BY s.id, customer.commercial_partner_id, %(key)s
                """,
                scope=scope,
                key=key,
                company_filter=company_filter,
                since=since,
            )
            for scope, key in (
                ("product", SQL("l.product_id")),
                ("category", SQL("t.categ_id")),
            )
        )
        band = SQL(
            deviation_band_sql(
                "-f.deviation", "f.deviation", "company.quote_deviation_tolerance"
            )
        )
        delete_filter = (
            SQL("TRUE")
            if companies is None
            else SQL("company_id = ANY(%s)", companies.ids)
        )
        self.env.cr.execute(
            SQL("DELETE FROM quote_guidance_stat WHERE %s", delete_filter)
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO quote_guidance_stat
                       (company_id, scope, res_id, tag_id, band, decided, won,
                        median_won_deviation)
                WITH facts AS (%(facts)s),
                banded AS (
                    SELECT f.*, %(band)s AS band
                      FROM facts f
                      JOIN res_company company ON company.id = f.company_id
                ),
                samples AS (
                    SELECT company_id, scope, res_id, NULL::int AS tag_id, band,
                           deviation, won
                      FROM banded
                    UNION ALL
                    SELECT b.company_id, b.scope, b.res_id, rel.category_id,
                           b.band, b.deviation, b.won
                      FROM banded b
                      JOIN res_partner_res_partner_category_rel rel
                        ON rel.partner_id = b.customer_id
                )
                SELECT company_id, scope, res_id, tag_id, band,
                       COUNT(*), COUNT(*) FILTER (WHERE won), NULL
                  FROM samples
                 GROUP BY company_id, scope, res_id, tag_id, band
                UNION ALL
                SELECT company_id, scope, res_id, tag_id, NULL,
                       COUNT(*), COUNT(*) FILTER (WHERE won),
                       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY deviation)
                           FILTER (WHERE won)
                  FROM samples
                 GROUP BY company_id, scope, res_id, tag_id
                """,
                facts=facts,
                band=band,
            )
        )
        self.invalidate_model()
