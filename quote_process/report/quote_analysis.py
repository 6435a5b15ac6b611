from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.sale.models.sale_order import SALE_ORDER_STATE

from ..models.crm_lost_reason import LOST_REASON_CATEGORIES
from ..tools.deviation_band import BAND_KEYS, DEVIATION_BANDS, deviation_band_sql


class QuoteAnalysis(models.Model):
    """One row per quotation with its outcome, for pivot and graph views.

    Rows: every quotation and sales order, except cancelled ones that were not
    lost (a draft withdrawn before the customer saw it, a confirmed order
    cancelled later): those have no sales outcome.

    Amounts are untaxed and converted to the currency of the current company,
    the way Odoo's Sales Analysis (sale.report) converts them.

    Extending: add a field and its SQL expression in _select_additional_fields();
    a join in _from(); _group_by() is there for extensions that join line-level
    tables; add the source fields to _depends so they are flushed first, e.g.::

        margin = fields.Float(aggregator="sum", ...)
        def _select_additional_fields(self):
            res = super()._select_additional_fields()
            res["margin"] = "s.margin"
            return res
    """

    _name = "quote.analysis"
    _description = "Quote Analysis"
    _auto = False
    _rec_name = "name"
    _order = "date desc, id desc"
    # Flushed before every query on the report.
    _depends = {
        "sale.order": [
            "amount_untaxed",
            "company_id",
            "currency_rate",
            "date_order",
            "customer_response",
            "customer_response_date",
            "lost_date",
            "lost_reason_id",
            "max_deviation_percent",
            "quote_deviation_above",
            "quote_discount_amount",
            "quote_sent_date",
            "quote_main_product_id",
            "reminder_count",
            "name",
            "order_line",
            "partner_id",
            "quote_outcome",
            "state",
            "team_id",
            "user_id",
        ],
        "sale.order.line": [
            "deviation_percent",
            "deviation_reason_id",
            "display_type",
            "is_downpayment",
            "order_id",
            "price_subtotal",
            "product_id",
        ],
        "res.company": ["quote_deviation_tolerance"],
        "res.partner": ["commercial_partner_id"],
        "crm.lost.reason": ["category"],
        "product.product": ["product_tmpl_id"],
        "product.template": ["categ_id"],
    }

    name = fields.Char(
        string="Reference",
        readonly=True,
        help="Reference of the quotation.",
    )
    order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Quotation",
        readonly=True,
        help="The quotation or sales order this row describes.",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        readonly=True,
        help="The customer's commercial entity (the company, not the contact).",
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Salesperson",
        readonly=True,
        help="Salesperson of the quotation.",
    )
    team_id = fields.Many2one(
        comodel_name="crm.team",
        string="Sales Team",
        readonly=True,
        help="Sales team of the quotation.",
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        readonly=True,
        help="Company of the quotation.",
    )
    date = fields.Datetime(
        string="Quotation Date",
        readonly=True,
        help="Order date of the quotation (the confirmation date once confirmed).",
    )
    state = fields.Selection(
        selection=SALE_ORDER_STATE,
        string="Status",
        readonly=True,
        help="Status of the quotation or sales order.",
    )
    outcome = fields.Selection(
        selection=[("open", "Open"), ("won", "Won"), ("lost", "Lost")],
        readonly=True,
        help="Open: a quotation still waiting for the customer's answer. Won: "
        "confirmed as a sales order. Lost: marked as lost.",
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        readonly=True,
        help="Currency of the amounts: the current company's currency.",
    )
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount",
        readonly=True,
        help="Untaxed total of the quotation, in the current company's currency.",
    )
    lost_reason_id = fields.Many2one(
        comodel_name="crm.lost.reason",
        string="Lost Reason",
        readonly=True,
        help="Why the quotation was lost; empty for open and won quotations.",
    )
    lost_reason_category = fields.Selection(
        selection=LOST_REASON_CATEGORIES,
        string="Lost Reason Category",
        readonly=True,
        help="Category of the lost reason.",
    )
    lost_date = fields.Date(
        string="Lost On",
        readonly=True,
        help="Day the quotation was marked as lost.",
    )
    categ_id = fields.Many2one(
        comodel_name="product.category",
        string="Main Product Category",
        readonly=True,
        help="Category of the product on the quotation's largest line (by untaxed "
        "amount).",
    )
    won_count = fields.Integer(
        string="Won",
        readonly=True,
        help="1 for a won quotation, else 0: the sum counts won quotations.",
    )
    lost_count = fields.Integer(
        string="Lost",
        readonly=True,
        help="1 for a lost quotation, else 0: the sum counts lost quotations.",
    )
    decided_count = fields.Integer(
        string="Decided",
        readonly=True,
        help="1 for a won or lost quotation, else 0: the sum counts quotations "
        "the customer decided on.",
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="Won quotations as a percentage of the decided (won or lost) ones; "
        "open quotations do not count.",
    )

    quote_sent_date = fields.Datetime(
        string="Sent On",
        readonly=True,
        help="When the quotation was first sent to the customer.",
    )
    customer_response = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("negotiating", "Negotiating"),
            ("accepted", "Accepted"),
            ("declined", "Declined"),
        ],
        readonly=True,
        help="The customer's answer to the quotation.",
    )
    days_to_response = fields.Float(
        string="Days to Response",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Days from the first sending to the customer's first answer; empty "
        "while the customer has not answered.",
    )
    max_deviation_percent = fields.Float(
        string="Largest Discount vs Engine (%)",
        readonly=True,
        aggregator="max",
        digits=(16, 2),
        help="How far below the engine price the quotation went at most.",
    )
    reminder_count = fields.Integer(
        string="Reminders",
        readonly=True,
        help="Follow-up reminders sent to the salesperson for this quotation.",
    )
    deviation_band = fields.Selection(
        selection=DEVIATION_BANDS,
        readonly=True,
        help="Where the quotation's largest deviation from the engine price lies: "
        "above it, within the company's tolerance, or up to 5, 10, 20 or more "
        "percent below it.",
    )
    discount_amount = fields.Monetary(
        string="Discount Given",
        readonly=True,
        help="The engine total of the quotation minus what it charges (global "
        "discounts included), untaxed, in the current company's currency.",
    )
    deviation_reason_id = fields.Many2one(
        comodel_name="quote.deviation.reason",
        string="Main Deviation Reason",
        readonly=True,
        help="The reason given on the line priced furthest below the engine price.",
    )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @api.readonly
    def action_open_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "views": [[False, "form"]],
            "res_id": self.order_id.id,
        }

    # ------------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------------

    def _read_group_orderby(self, order, groupby_terms, query):
        """The deviation bands in their order (above the engine price first,
        over 20 % below last), not in the alphabetical order of their keys."""
        parts = [part.strip() for part in (order or ",".join(groupby_terms)).split(",")]
        if "deviation_band" not in groupby_terms or not any(
            part.split()[0] == "deviation_band" for part in parts if part
        ):
            return super()._read_group_orderby(order, groupby_terms, query)
        terms = []
        for part in filter(None, parts):
            term, *options = part.split()
            if term == "deviation_band":
                descending = options and options[0].upper() == "DESC"
                terms.append(
                    SQL(
                        "array_position(%s::text[], %s::text) %s",
                        BAND_KEYS,
                        groupby_terms[term],
                        SQL("DESC" if descending else "ASC"),
                    )
                )
            else:
                terms.append(super()._read_group_orderby(part, groupby_terms, query))
        return SQL(", ").join(terms)

    def _case_value_or_one(self, value):
        return f"CASE COALESCE({value}, 0) WHEN 0 THEN 1.0 ELSE {value} END"

    def _select(self):
        deviation_band = deviation_band_sql(
            "s.max_deviation_percent",
            "s.quote_deviation_above",
            "company.quote_deviation_tolerance",
        )
        select_ = f"""
            s.id AS id,
            s.id AS order_id,
            s.name AS name,
            partner.commercial_partner_id AS partner_id,
            s.user_id AS user_id,
            s.team_id AS team_id,
            s.company_id AS company_id,
            s.date_order AS date,
            s.state AS state,
            s.quote_outcome AS outcome,
            {self.env.company.currency_id.id} AS currency_id,
            s.amount_untaxed
                / {self._case_value_or_one("s.currency_rate")}
                * {self._case_value_or_one("account_currency_table.rate")}
                AS amount_untaxed,
            s.lost_reason_id AS lost_reason_id,
            reason.category AS lost_reason_category,
            s.lost_date AS lost_date,
            main_template.categ_id AS categ_id,
            CASE WHEN s.quote_outcome = 'won' THEN 1 ELSE 0 END AS won_count,
            CASE WHEN s.quote_outcome = 'lost' THEN 1 ELSE 0 END AS lost_count,
            CASE WHEN s.quote_outcome IN ('won', 'lost') THEN 1 ELSE 0 END
                AS decided_count,
            CASE
                WHEN s.quote_outcome = 'won' THEN 100.0
                WHEN s.quote_outcome = 'lost' THEN 0.0
            END AS win_rate,
            s.quote_sent_date AS quote_sent_date,
            s.customer_response AS customer_response,
            EXTRACT(EPOCH FROM s.customer_response_date - s.quote_sent_date)
                / 86400.0 AS days_to_response,
            s.max_deviation_percent AS max_deviation_percent,
            COALESCE(s.reminder_count, 0) AS reminder_count,
            {deviation_band} AS deviation_band,
            COALESCE(s.quote_discount_amount, 0)
                / {self._case_value_or_one("s.currency_rate")}
                * {self._case_value_or_one("account_currency_table.rate")}
                AS discount_amount,
            (
                SELECT l.deviation_reason_id
                  FROM sale_order_line l
                 WHERE l.order_id = s.id
                   AND l.deviation_reason_id IS NOT NULL
                   AND l.deviation_percent < 0
                 ORDER BY l.deviation_percent, l.id
                 LIMIT 1
            ) AS deviation_reason_id"""
        for fname, expression in self._select_additional_fields().items():
            select_ += f""",
            {expression} AS {fname}"""
        return select_

    def _select_additional_fields(self):
        """Hook: mapping field name -> SQL expression, added to the select.

        The order is ``s`` (sale_order), its customer ``partner``, the lost
        reason ``reason``.
        """
        return {}

    def _from(self):
        currency_table = self.env["res.currency"]._get_simple_currency_table(
            self.env.companies
        )
        currency_table = self.env.cr.mogrify(currency_table).decode(
            self.env.cr.connection.encoding
        )
        return f"""
            sale_order s
            JOIN res_partner partner ON partner.id = s.partner_id
            JOIN res_company company ON company.id = s.company_id
            LEFT JOIN crm_lost_reason reason ON reason.id = s.lost_reason_id
            LEFT JOIN product_product main_product
                ON main_product.id = s.quote_main_product_id
            LEFT JOIN product_template main_template
                ON main_template.id = main_product.product_tmpl_id
            JOIN {currency_table} ON account_currency_table.company_id = s.company_id"""

    def _where(self):
        # Cancelled without a loss (withdrawn drafts, cancelled orders) have no
        # sales outcome and stay out of the statistics.
        return """
            s.quote_outcome != 'withdrawn'"""

    def _group_by(self):
        """Hook for extensions that join line-level tables; empty: one row per
        quotation needs no grouping."""
        return ""

    def _query(self):
        group_by = self._group_by()
        return f"""
            SELECT {self._select()}
              FROM {self._from()}
             WHERE {self._where()}
            {f"GROUP BY {group_by}" if group_by else ""}
        """

    @property
    def _table_query(self):
        return self._query()
