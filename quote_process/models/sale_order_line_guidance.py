from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.deviation_band import BAND_KEYS, deviation_band_sql
from ..tools.formatting import format_number

# Quotes decided (won or lost) this many days back make the history.
GUIDANCE_HISTORY_DAYS = 365


class SaleOrderLine(models.Model):
    """Price guidance: how prices near this line's fared with customers.

    From the quotes decided in the last 365 days in the same company, for the
    same product, else for its category: how many were decided, how many won,
    the win rate of each deviation band and the median deviation of the won
    ones. Statistics only: nobody sees another salesperson's quotes through it.
    """

    _inherit = "sale.order.line"

    price_guidance = fields.Json(
        string="Price Guidance",
        compute="_compute_price_guidance",
        help="How quotes of this product (else its category) decided in the last "
        "365 days fared by their price against the engine's.",
    )

    @api.depends(
        "product_id",
        "display_type",
        "engine_price_unit",
        "order_id.company_id",
        "order_id.partner_id",
    )
    @api.depends_context("lang")
    def _compute_price_guidance(self):
        guidance_by_line = self._get_price_guidance()
        for line in self:
            line.price_guidance = line._get_price_guidance_display(
                guidance_by_line.get(line.id)
            )

    def _get_price_guidance_display(self, guidance):
        """What the guidance widget shows, in the reader's language: False for
        lines the engine does not price."""
        self.ensure_one()
        if not (self.product_id and self._is_engine_priced()):
            return False
        company = self.order_id.company_id or self.env.company
        if not guidance:
            return {
                "state": "too_little",
                "summary": self.env._(
                    "Too little history: fewer than %(count)s quotes of this product "
                    "or its category decided in the last 365 days.",
                    count=company.quote_guidance_min_sample,
                ),
            }
        labels = dict(
            self.env["quote.analysis"]
            ._fields["deviation_band"]
            ._description_selection(self.env)
        )

        def percent(won, decided):
            return f"{round(100.0 * won / decided)}%"

        bands = [
            {
                "band": band["band"],
                "label": labels[band["band"]],
                "decided": band["decided"],
                "won": band["won"],
                "rate": percent(band["won"], band["decided"]),
            }
            for band in guidance["bands"]
        ]
        median = guidance["median_won_deviation"]
        median_text = (
            format_number(self.env, round(median, 1), signed=True) + "%"
            if median is not None
            else self.env._("none won")
        )
        parts = [
            self.env._(
                "won %(won)s of %(decided)s",
                won=guidance["won"],
                decided=guidance["decided"],
            )
        ]
        parts += [
            self.env._("%(band)s %(rate)s won", band=band["label"], rate=band["rate"])
            for band in bands
        ]
        parts.append(self.env._("median won %(median)s", median=median_text))
        if guidance["scope"] == "product":
            scope = self.env._(
                "Quotes of %(product)s", product=self.product_id.display_name
            )
        else:
            scope = self.env._(
                "Quotes of the category %(category)s",
                category=self.product_id.categ_id.display_name,
            )
        return {
            "state": "ok",
            "summary": " · ".join(parts),
            "short": self.env._(
                "%(rate)s won", rate=percent(guidance["won"], guidance["decided"])
            ),
            "scope": scope,
            "narrowed": guidance["narrowed_by_tags"]
            and self.env._("Only customers sharing a tag with this one."),
            "decided": guidance["decided"],
            "won": guidance["won"],
            "median": median_text,
            "bands": bands,
        }

    # ------------------------------------------------------------------
    # The statistics
    # ------------------------------------------------------------------

    def _get_price_guidance(self):
        """Price guidance for a batch of lines, in a few queries for the whole
        batch (two per company and customer tags, whatever the number of lines).

        :return: ``{line_id: guidance}``, guidance ``None`` when too little
            history stands behind it, else a dict: ``scope`` (``product`` or
            ``category``), ``decided``, ``won``, ``median_won_deviation``
            (percent, negative = below the engine price), ``bands`` (a list of
            ``{"band": key, "decided": n, "won": n}`` in the order of
            ``quote.analysis.deviation_band``, bands without quotes left out),
            ``narrowed_by_tags`` (the sample holds only customers sharing a tag
            with this one's) and ``min_sample``.
        """
        result = {line.id: None for line in self}
        lines = self.filtered(
            lambda line: line.order_id and line.product_id and line._is_engine_priced()
        )
        groups = lines.grouped(
            lambda line: (
                line.order_id.company_id,
                line.order_id.partner_id.commercial_partner_id.category_id,
            )
        )
        for (company, tags), group in groups.items():
            min_sample = company.quote_guidance_min_sample
            products = group.product_id
            by_product = self._quote_guidance_stats(
                company, tags, "product", products.ids
            )
            by_category = self._quote_guidance_stats(
                company, tags, "category", products.categ_id.ids
            )
            for line in group:
                result[line.id] = self._quote_guidance_pick(
                    min_sample,
                    ("product", by_product.get(line.product_id.id)),
                    ("category", by_category.get(line.product_id.categ_id.id)),
                )
        return result

    @api.model
    def _quote_guidance_pick(self, min_sample, *scopes):
        """The first scope with enough decided quotes, the customers sharing a
        tag first."""
        for scope, samples in scopes:
            for narrowed in (True, False):
                stats = (samples or {}).get(narrowed)
                if stats and stats["decided"] >= min_sample:
                    return dict(
                        stats,
                        scope=scope,
                        narrowed_by_tags=narrowed,
                        min_sample=min_sample,
                    )
        return None

    @api.model
    def _quote_guidance_stats(self, company, tags, scope, keys):
        """The decided quotes of ``company`` for each product (or category) of
        ``keys``, in one query: ``{key: {narrowed: stats}}`` where ``narrowed``
        is True for the quotes of customers sharing one of ``tags`` (only when
        ``tags`` is set) and False for all.

        A quote counts once per product (or category): its deviation there is
        that of its lines of it, weighted by their engine amount.
        """
        if not keys:
            return {}
        if scope == "product":
            key_sql = SQL("l.product_id")
            join_sql = SQL("")
        else:
            key_sql = SQL("t.categ_id")
            join_sql = SQL(
                """JOIN product_product p ON p.id = l.product_id
                   JOIN product_template t ON t.id = p.product_tmpl_id"""
            )
        if tags:
            tagged_sql = SQL(
                """EXISTS (
                    SELECT 1
                      FROM res_partner customer
                      JOIN res_partner_res_partner_category_rel rel
                        ON rel.partner_id = customer.commercial_partner_id
                     WHERE customer.id = s.partner_id
                       AND rel.category_id = ANY(%s)
                )""",
                tags.ids,
            )
        else:
            tagged_sql = SQL("FALSE")
        since = fields.Date.context_today(self) - timedelta(days=GUIDANCE_HISTORY_DAYS)
        band_sql = SQL(
            deviation_band_sql(
                "-f.deviation",
                "f.deviation",
                repr(float(company.quote_deviation_tolerance)),
            )
        )
        self.env["sale.order.line"].flush_model(
            [
                "order_id",
                "product_id",
                "display_type",
                "deviation_percent",
                "engine_price_unit",
                "product_uom_qty",
            ]
        )
        self.env["sale.order"].flush_model(
            ["company_id", "partner_id", "quote_outcome", "lost_date", "date_order"]
        )
        self.env.cr.execute(
            SQL(
                """
                WITH facts AS (
                    SELECT %(key)s AS key,
                           s.quote_outcome = 'won' AS won,
                           %(tagged)s AS tagged,
                           SUM(l.deviation_percent * l.engine_price_unit
                               * l.product_uom_qty)
                             / NULLIF(SUM(l.engine_price_unit * l.product_uom_qty), 0)
                             AS deviation
                      FROM sale_order_line l
                      JOIN sale_order s ON s.id = l.order_id
                      %(join)s
                     WHERE %(key)s = ANY(%(keys)s)
                       AND s.company_id = %(company)s
                       AND s.quote_outcome IN ('won', 'lost')
                       AND COALESCE(s.lost_date, s.date_order::date) >= %(since)s
                       AND l.display_type IS NULL
                       AND l.engine_price_unit > 0
                       AND l.product_uom_qty > 0
                     GROUP BY 1, 2, 3, s.id
                ), banded AS (
                    SELECT f.key, f.won, f.tagged, f.deviation, %(band)s AS band
                      FROM facts f
                     WHERE f.deviation IS NOT NULL
                )
                SELECT key,
                       CASE WHEN GROUPING(tagged) = 0 THEN tagged END AS narrowed,
                       CASE WHEN GROUPING(band) = 0 THEN band END AS band,
                       COUNT(*) AS decided,
                       COUNT(*) FILTER (WHERE won) AS won,
                       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY deviation)
                           FILTER (WHERE won) AS median_won_deviation
                  FROM banded
                 GROUP BY GROUPING SETS (
                     (key), (key, band), (key, tagged), (key, tagged, band)
                 )
                """,
                key=key_sql,
                tagged=tagged_sql,
                join=join_sql,
                keys=list(keys),
                company=company.id,
                since=since,
                band=band_sql,
            )
        )
        stats = {}
        for key, narrowed, band, decided, won, median in self.env.cr.fetchall():
            if narrowed is False:
                continue  # customers sharing no tag: only in the whole sample
            sample = stats.setdefault(key, {}).setdefault(
                bool(narrowed), {"decided": 0, "won": 0, "bands": {}}
            )
            if band is None:
                sample.update(
                    decided=decided,
                    won=won,
                    median_won_deviation=round(median, 2)
                    if median is not None
                    else None,
                )
            else:
                sample["bands"][band] = {"band": band, "decided": decided, "won": won}
        for samples in stats.values():
            for sample in samples.values():
                sample["bands"] = [
                    sample["bands"][key] for key in BAND_KEYS if key in sample["bands"]
                ]
        return stats
