from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.deviation_band import BAND_KEYS, deviation_band_sql
from ..tools.formatting import format_number


class SaleOrderLine(models.Model):
    """Price guidance: how prices near this line's fared with customers.

    From the quotes decided in the last 365 days in the same company, for the
    same product, else for its category: how many were decided, how many won,
    the win rate of each deviation band and the median deviation of the won
    ones, read from the statistics the daily job counts (quote.guidance.stat).
    Statistics only: nobody sees another salesperson's quotes through it.
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
        """The first scope with enough decided quotes: of the customers sharing
        the tag with the most of them, else of all customers."""
        for scope, samples in scopes:
            if not samples:
                continue
            by_tag = [
                sample
                for sample in samples["tags"].values()
                if sample["decided"] >= min_sample
            ]
            narrowed = max(by_tag, key=lambda sample: sample["decided"], default=None)
            stats = narrowed or samples.get("all")
            if stats and stats["decided"] >= min_sample:
                return dict(
                    stats,
                    scope=scope,
                    narrowed_by_tags=bool(narrowed),
                    min_sample=min_sample,
                )
        return None

    @api.model
    def _quote_guidance_stats(self, company, tags, scope, keys):
        """The decided quotes of ``company`` for each product (or category) of
        ``keys``, from the guidance statistics, in one query:
        ``{key: {"all": stats, "tags": {tag_id: stats}}}``, the ``tags`` ones
        for the customers having each of ``tags``.
        """
        if not keys:
            return {}
        band_sql = SQL(
            deviation_band_sql(
                "-h.deviation",
                "h.deviation",
                repr(float(company.quote_deviation_tolerance)),
            )
        )
        self.env["quote.guidance.stat"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH h AS (
                    SELECT res_id AS key, COALESCE(tag_id, 0) AS tag_id,
                           deviation, decided, won
                      FROM quote_guidance_stat
                     WHERE company_id = %(company)s
                       AND scope = %(scope)s
                       AND res_id = ANY(%(keys)s)
                       AND (tag_id IS NULL OR tag_id = ANY(%(tags)s))
                ), won AS (
                    SELECT key, tag_id, deviation,
                           SUM(won) OVER (PARTITION BY key, tag_id ORDER BY deviation)
                               AS position,
                           SUM(won) OVER (PARTITION BY key, tag_id) AS total
                      FROM h
                     WHERE won > 0
                ), median AS (
                    -- the middle won quote, or the mean of the two middle ones
                    SELECT key, tag_id,
                           (MIN(deviation) FILTER (WHERE position >= (total + 1) / 2)
                            + MIN(deviation) FILTER (WHERE position >= total / 2 + 1)
                           ) / 2 AS median
                      FROM won
                     GROUP BY key, tag_id
                )
                SELECT h.key, h.tag_id, %(band)s AS band,
                       SUM(h.decided), SUM(h.won), NULL
                  FROM h
                 GROUP BY 1, 2, 3
                UNION ALL
                SELECT h.key, h.tag_id, NULL, SUM(h.decided), SUM(h.won),
                       MIN(median.median)
                  FROM h
                  LEFT JOIN median ON median.key = h.key AND median.tag_id = h.tag_id
                 GROUP BY 1, 2
                """,
                company=company.id,
                scope=scope,
                keys=list(keys),
                tags=tags.ids,
                band=band_sql,
            )
        )
        stats = {}
        for key, tag_id, band, decided, won, median in self.env.cr.fetchall():
            samples = stats.setdefault(key, {"all": None, "tags": {}})
            if tag_id:
                sample = samples["tags"].setdefault(
                    tag_id, {"decided": 0, "won": 0, "bands": {}}
                )
            else:
                if samples["all"] is None:
                    samples["all"] = {"decided": 0, "won": 0, "bands": {}}
                sample = samples["all"]
            if band is None:
                sample.update(
                    decided=int(decided),
                    won=int(won),
                    median_won_deviation=(
                        round(float(median), 2) if median is not None else None
                    ),
                )
            else:
                sample["bands"][band] = {
                    "band": band,
                    "decided": int(decided),
                    "won": int(won),
                }
        for samples in stats.values():
            for sample in [samples["all"], *samples["tags"].values()]:
                if sample:
                    sample["bands"] = [
                        sample["bands"][key]
                        for key in BAND_KEYS
                        if key in sample["bands"]
                    ]
        return stats
