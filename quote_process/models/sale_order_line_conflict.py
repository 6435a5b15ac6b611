from collections import defaultdict, namedtuple

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import (
    SQL,
    format_amount,
)

from .sale_order import QUOTATION_STATES

# How far back confirmed orders count for the price conflict warning.
PRICE_CONFLICT_DAYS = 90

# A quote line as its price conflicts are looked for (records but the ids).
PriceConflictCandidate = namedtuple(
    "PriceConflictCandidate",
    "product partner company currency price order_id line_id",
)


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
        # one quote's lines (its form): its other lines are no conflict
        own_order_id = len(lines.order_id) == 1 and lines.order_id._origin.id or 0
        warnings = lines._get_price_conflict_warnings(
            [line._get_price_conflict_candidate() for line in lines], own_order_id
        )
        for line, warning in zip(lines, warnings, strict=True):
            line.price_conflict_warning = warning

    @api.model
    @api.readonly
    def get_price_conflict_display(self, requests):
        """What the price conflict widget of quote lines shows, for a batch of
        lines of the web client, saved or not. The widget asks apart from the
        lines the form loads and changes: a change of one line of a large quote
        does not look for the conflicts of all its lines again.

        :param list requests: one dict per line, with the line's ``id`` (False
            for a new line), ``product_id``, ``price_unit`` and ``discount``,
            and its quote's ``order_id`` (False for a new quote),
            ``partner_id``, ``company_id`` and ``currency_id``, as the form
            holds them
        :return: the warnings (``price_conflict_warning``), False where there
            is none, in the order of the requests
        """

        def records(model, key):
            ids = {request.get(key) for request in requests} - {False, None}
            return self.env[model].browse(ids).exists()

        companies = records("res.company", "company_id")
        if companies - self.env.user.company_ids:
            raise AccessError(
                self.env._("You have no access to the company of this quote.")
            )
        orders = records("sale.order", "order_id")
        saved_lines = records("sale.order.line", "id")
        partners = records("res.partner", "partner_id")
        products = records("product.product", "product_id")
        for readable in (orders, saved_lines, partners, products):
            readable.check_access("read")
        currencies = records("res.currency", "currency_id")
        candidates = {}
        for index, request in enumerate(requests):
            order = orders & orders.browse(request.get("order_id") or [])
            product = products & products.browse(request.get("product_id") or [])
            partner = partners & partners.browse(request.get("partner_id") or [])
            company = companies & companies.browse(request.get("company_id") or [])
            currency = currencies & currencies.browse(request.get("currency_id") or [])
            if not (product and partner and company and currency) or (
                order and order.state not in QUOTATION_STATES
            ):
                continue
            try:
                prices = {
                    "price_unit": float(request.get("price_unit") or 0.0),
                    "discount": float(request.get("discount") or 0.0),
                }
            except (TypeError, ValueError) as error:
                raise UserError(
                    self.env._(
                        "This quote line's price is not a number: %(error)s",
                        error=error,
                    )
                ) from error
            line = saved_lines & saved_lines.browse(request.get("id") or [])
            candidates[index] = PriceConflictCandidate(
                product=product,
                partner=partner.commercial_partner_id,
                company=company,
                currency=currency,
                price=self.new(prices)._get_discounted_price(),
                order_id=order.id or 0,
                line_id=line.id or 0,
            )
        # the lines of one quote (its form): its other lines are no conflict
        order_ids = {candidate.order_id for candidate in candidates.values()}
        own_order_id = order_ids.pop() if len(order_ids) == 1 else 0
        warnings = self.sudo()._get_price_conflict_warnings(
            list(candidates.values()), own_order_id
        )
        found = dict(zip(candidates, warnings, strict=True))
        return [found.get(index, False) for index in range(len(requests))]

    def _get_price_conflict_candidate(self):
        """The line as the conflicts are looked for: its product, customer,
        company, currency and price (unit price less discount), and the ids of
        its quote and of itself, never in conflict with it."""
        self.ensure_one()
        return PriceConflictCandidate(
            product=self.product_id,
            partner=self.order_id.partner_id.commercial_partner_id,
            company=self.company_id,
            currency=self.currency_id or self.company_id.currency_id,
            price=self._get_discounted_price(),
            order_id=self.order_id._origin.id or 0,
            line_id=self._origin.id or 0,
        )

    @api.model
    def _get_price_conflict_warnings(self, candidates, own_order_id=0):
        """The warnings of the lines ``candidates`` describe, in the reader's
        language: each document where the customer has the product at another
        price, with that price.

        :param list candidates: ``PriceConflictCandidate`` of the lines
        :param int own_order_id: the quote whose lines are all in
            ``candidates`` (0 for none): its lines are no conflict
        :return: the warnings, False where there is none, in the order of
            ``candidates``
        """
        conflicts = self._get_price_conflicts(candidates, own_order_id)
        statuses = {
            True: self.env._("open quotation"),
            False: self.env._("confirmed order"),
        }
        # the names of the products at another price only, in one batch
        products = self.env["product.product"].browse(
            {candidates[index].product.id for index in conflicts}
        )
        names = dict(zip(products.ids, products.mapped("display_name"), strict=True))
        warnings = []
        for index, candidate in enumerate(candidates):
            others = conflicts.get(index)
            if not others:
                warnings.append(False)
                continue
            documents = "\n".join(
                self.env._(
                    "%(document)s (%(status)s): %(price)s",
                    document=other_order.name,
                    status=statuses[other_order.state in QUOTATION_STATES],
                    price=format_amount(self.env, other_price, candidate.currency),
                )
                for other_order, other_price in others
            )
            warnings.append(
                self.env._(
                    "This customer has %(product)s at another price in:\n%(documents)s",
                    product=names[candidate.product.id],
                    documents=documents,
                )
            )
        return warnings

    @api.model
    def _get_price_conflicts(self, candidates, own_order_id=0):
        """The lines of the customer's other quotations, and of its orders
        confirmed in the last ``PRICE_CONFLICT_DAYS`` days, with the product of
        each candidate line at another price (unit price less discount, in the
        same currency and company), never those of the line's own quotation.

        The prices are compared in the database first (the lines of a
        customer's other quotes may be thousands, most at the same price): only
        the lines at least half the currency's rounding away from the line's
        rounded price come back, a superset of those that
        ``currency.compare_amounts`` (rounding both prices) finds different,
        which then decides.
        The other lines' prices are computed there as Odoo's
        ``_get_discounted_price`` does.

        :param list candidates: ``PriceConflictCandidate`` of the lines
        :param int own_order_id: see ``_get_price_conflict_warnings``
        :return: dict {index in candidates: [(other order, other line's
            discounted price)]} with the candidates that have such lines only
        """
        if not candidates:
            return {}
        since = fields.Datetime.subtract(
            fields.Datetime.now(), days=PRICE_CONFLICT_DAYS
        )
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, %s, %s::numeric, %s::numeric, %s, %s)",
                index,
                candidate.product.id,
                candidate.partner.id,
                candidate.company.id,
                candidate.currency.id,
                # rounded: a price rounds to another amount than this one
                # only from half a rounding away from it
                candidate.currency.round(candidate.price),
                candidate.currency.rounding / 2,
                candidate.order_id,
                candidate.line_id,
            )
            for index, candidate in enumerate(candidates)
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
        # the customer's other lines first (as few as its quotes and recent
        # orders hold), then compared with each candidate
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
                product_ids=tuple({candidate.product.id for candidate in candidates}),
                partner_ids=tuple({candidate.partner.id for candidate in candidates}),
                company_ids=tuple({candidate.company.id for candidate in candidates}),
                quotation_states=tuple(QUOTATION_STATES),
                since=since,
                own_order_id=own_order_id,
                candidates=values,
            )
        )
        orders = self.env["sale.order"].browse({row[1] for row in rows})
        orders.fetch(["name", "state"])
        conflicts = defaultdict(list)
        for index, order_id, other_price in rows:
            candidate = candidates[index]
            other_price = float(other_price)
            if candidate.currency.compare_amounts(other_price, candidate.price):
                conflicts[index].append((orders.browse(order_id), other_price))
        return conflicts
