from odoo import api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools.deviation_band import BAND_KEYS, DEVIATION_BANDS
from ..tools.formatting import format_number


class SaleOrderLine(models.Model):
    """Price guidance: how prices near this line's fared with customers.

    From the quotes decided in the last 365 days in the same company, for the
    same product, else for its category: how many were decided, how many won,
    the win rate of each deviation band and the median deviation of the won
    ones, read from the statistics the daily job counts (quote.guidance.stat).
    Statistics only: nobody sees another salesperson's quotes through it.

    The web client's guidance widget asks for it once the lines are shown, in
    one call for all of them (get_price_guidance_display): opening, saving or
    changing a quote costs nothing more.
    """

    _inherit = "sale.order.line"

    @api.model
    @api.readonly
    def get_price_guidance_display(self, requests):
        """What the guidance widget of quote lines shows, for a batch of lines
        of the web client, saved or not.

        :param requests: a list of ``[product_id, partner_id, company_id]``,
            one per line (the quote's customer and company)
        :return: a list, in the same order, of False (no product) or a dict:
            ``state`` (``ok`` or ``too_little``), ``summary``, ``short``,
            ``scope``, ``narrowed`` and ``bands`` (rows of label, decided, won,
            win rate)
        """
        texts = self._quote_guidance_texts()
        companies = self.env["res.company"].browse(
            {company_id or self.env.company.id for _p, _c, company_id in requests}
        )
        if companies - self.env.user.company_ids:
            raise AccessError(
                self.env._("You have no access to the company of this quote.")
            )
        partners = (
            self.env["res.partner"]
            .browse({partner_id for _p, partner_id, _c in requests if partner_id})
            .exists()
        )
        partners.check_access("read")
        products = (
            self.env["product.product"]
            .browse({product_id for product_id, _p, _c in requests if product_id})
            .exists()
        )
        keys = [
            (
                self.env["res.company"].browse(company_id or self.env.company.id),
                (
                    partners & partners.browse(partner_id)
                ).commercial_partner_id.category_id,
                products & products.browse(product_id),
            )
            for product_id, partner_id, company_id in requests
        ]
        guidance_by_key = {}
        groups = {}
        for company, tags, product in keys:
            if product:
                groups.setdefault((company, tags), set()).add(product.id)
        for (company, tags), product_ids in groups.items():
            products = self.env["product.product"].browse(product_ids)
            for product_id, guidance in self._quote_guidance_for(
                company, tags, products
            ).items():
                guidance_by_key[company, tags, product_id] = guidance
        return [
            self._get_price_guidance_display(
                guidance_by_key[company, tags, product.id], product, company, texts
            )
            if product
            else False
            for company, tags, product in keys
        ]

    @api.model
    def _quote_guidance_texts(self):
        """The words of the guidance in the reader's language, translated once
        for a batch of lines."""
        _ = self.env._
        numbers = {}

        def number(value):
            if value not in numbers:
                numbers[value] = format_number(self.env, value, signed=True)
            return numbers[value]

        return {
            "number": number,
            "bands": dict(DEVIATION_BANDS)
            | dict(
                self.env["quote.guidance.stat"]
                ._fields["band"]
                ._description_selection(self.env)
            ),
            "too_little": _(
                "Too little history: fewer than %(count)s quotes of this product "
                "or its category decided in the last 365 days."
            ),
            "won_of": _("won %(won)s of %(decided)s"),
            "band_won": _("%(band)s %(rate)s won"),
            "rate_won": _("%(rate)s won"),
            "median": _("median won %(median)s"),
            "none_won": _("none won"),
            "product": _("Quotes of this product"),
            "category": _("Quotes of the category %(category)s"),
            "narrowed": _("Only customers sharing a tag with this one."),
        }

    @api.model
    def _get_price_guidance_display(self, guidance, product, company, texts=None):
        """What the guidance widget shows of ``guidance`` (for ``product`` in
        ``company``), in the reader's language."""
        texts = texts or self._quote_guidance_texts()
        if not guidance:
            return {
                "state": "too_little",
                "summary": texts["too_little"]
                % {"count": company.quote_guidance_min_sample},
            }

        def percent(won, decided):
            return f"{round(100.0 * won / decided)}%"

        # rows of the popover: label, decided, won, win rate
        bands = [
            [
                texts["bands"][band["band"]],
                band["decided"],
                band["won"],
                percent(band["won"], band["decided"]),
            ]
            for band in guidance["bands"]
        ]
        median = guidance["median_won_deviation"]
        median_text = (
            texts["number"](round(median, 1)) + "%"
            if median is not None
            else texts["none_won"]
        )
        parts = [
            texts["won_of"] % {"won": guidance["won"], "decided": guidance["decided"]},
            *(
                texts["band_won"] % {"band": label, "rate": rate}
                for label, _decided, _won, rate in bands
            ),
            texts["median"] % {"median": median_text},
        ]
        if guidance["scope"] == "product":
            scope = texts["product"]
        else:
            scope = texts["category"] % {"category": product.categ_id.display_name}
        return {
            "state": "ok",
            "summary": " · ".join(parts),
            "short": texts["rate_won"]
            % {"rate": percent(guidance["won"], guidance["decided"])},
            "scope": scope,
            "narrowed": guidance["narrowed_by_tags"] and texts["narrowed"],
            "bands": bands,
        }

    # ------------------------------------------------------------------
    # The statistics
    # ------------------------------------------------------------------

    def _get_price_guidance(self):
        """Price guidance for a batch of lines, in a few queries for the whole
        batch (two per company and customer tags, whatever the number of lines).

        :return: ``{line_id: guidance}``, guidance ``None`` when too little
            history stands behind it (or the engine does not price the line),
            else a dict: ``scope`` (``product`` or ``category``), ``decided``,
            ``won``, ``median_won_deviation`` (percent, negative = below the
            engine price, None when none won), ``bands`` (a list of
            ``{"band": key, "decided": n, "won": n}`` in the order of
            ``quote.analysis.deviation_band``, bands without quotes left out),
            ``narrowed_by_tags`` (the sample holds only the customers sharing a
            tag with this one) and ``min_sample``.
        """
        result = dict.fromkeys(self.ids)
        result.update(self._quote_guidance_lines()._quote_guidance_compute())
        return result

    def _quote_guidance_lines(self):
        """The lines that get guidance: those the engine prices (it gives the
        others no engine price)."""
        return self.filtered(
            lambda line: (
                line.engine_price_unit > 0 and line.product_id and line.order_id
            )
        )

    def _quote_guidance_compute(self):
        groups = {}
        for line in self:
            order = line.order_id
            key = (order.company_id, order.partner_id.commercial_partner_id.category_id)
            groups[key] = groups.get(key, self.browse()) | line
        guidance = {}
        for (company, tags), group in groups.items():
            by_product = self._quote_guidance_for(company, tags, group.product_id)
            for line in group:
                guidance[line.id] = by_product[line.product_id.id]
        return guidance

    @api.model
    def _quote_guidance_for(self, company, tags, products):
        """``{product_id: guidance}`` for the quotes of ``company``'s customers
        with ``tags``, in two queries (products, then their categories)."""
        min_sample = company.quote_guidance_min_sample
        by_product = self._quote_guidance_stats(company, tags, "product", products.ids)
        by_category = self._quote_guidance_stats(
            company, tags, "category", products.categ_id.ids
        )
        return {
            product.id: self._quote_guidance_pick(
                min_sample,
                ("product", by_product.get(product.id)),
                ("category", by_category.get(product.categ_id.id)),
            )
            for product in products
        }

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
            stats = narrowed or samples["all"]
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
        self.env["quote.guidance.stat"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT res_id, tag_id, band, decided, won, median_won_deviation
                  FROM quote_guidance_stat
                 WHERE company_id = %(company)s
                   AND scope = %(scope)s
                   AND res_id = ANY(%(keys)s)
                   AND (tag_id IS NULL OR tag_id = ANY(%(tags)s))
                """,
                company=company.id,
                scope=scope,
                keys=list(keys),
                tags=tags.ids,
            )
        )
        stats = {}
        for key, tag_id, band, decided, won, median in self.env.cr.fetchall():
            samples = stats.setdefault(key, {"all": None, "tags": {}})
            if tag_id:
                sample = samples["tags"].setdefault(tag_id, {"bands": {}})
            else:
                sample = samples["all"] = samples["all"] or {"bands": {}}
            if band:
                sample["bands"][band] = {"band": band, "decided": decided, "won": won}
            else:
                sample.update(
                    decided=decided,
                    won=won,
                    median_won_deviation=(
                        round(float(median), 2) if median is not None else None
                    ),
                )
        for samples in stats.values():
            for sample in [samples["all"], *samples["tags"].values()]:
                if sample:
                    sample["bands"] = [
                        sample["bands"][key]
                        for key in BAND_KEYS
                        if key in sample["bands"]
                    ]
        return stats
