from odoo import api, fields, models
from odoo.tools import SQL


class QuotePricingRule(models.Model):
    """What each rule priced and whether those quotes were won."""

    _inherit = "quote.pricing.rule"

    priced_line_count = fields.Integer(
        string="Lines Priced",
        compute="_compute_priced_lines",
        help="Quote lines whose engine price this rule adjusted.",
    )
    priced_win_rate = fields.Float(
        string="Win Rate (%)",
        compute="_compute_priced_lines",
        digits=(16, 1),
        help="Won quotes as a percentage of the decided (won or lost) quotes that "
        "hold a line this rule priced.",
    )

    def _compute_priced_lines(self):
        stats = self._get_priced_line_stats()
        for rule in self:
            lines, decided, won = stats.get(rule._origin.id, (0, 0, 0))
            rule.priced_line_count = lines
            rule.priced_win_rate = 100.0 * won / decided if decided else 0.0

    def _get_priced_line_stats(self):
        """``{rule_id: (lines, decided quotes, won quotes)}`` in one query,
        counted over the rule's company (figures, not records: no record of
        another salesperson is shown)."""
        rule_ids = [rule_id for rule_id in self._origin.ids if rule_id]
        if not rule_ids:
            return {}
        self.env["sale.order.line"].flush_model(["engine_steps", "order_id"])
        self.env["sale.order"].flush_model(["quote_outcome"])
        self.env.cr.execute(
            SQL(
                """
                SELECT r.id,
                       COUNT(l.id),
                       COUNT(DISTINCT s.id) FILTER (
                           WHERE s.quote_outcome IN ('won', 'lost')),
                       COUNT(DISTINCT s.id) FILTER (WHERE s.quote_outcome = 'won')
                  FROM unnest(%s) AS r(id)
                  JOIN sale_order_line l
                    ON jsonb_path_query_array(l.engine_steps, '$.steps[*].rule_id')
                       @> jsonb_build_array(r.id)
                  JOIN sale_order s ON s.id = l.order_id
                 GROUP BY r.id
                """,
                rule_ids,
            )
        )
        return {
            rule_id: (lines, decided, won)
            for rule_id, lines, decided, won in self.env.cr.fetchall()
        }

    @api.readonly
    def action_view_priced_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Lines Priced by %(rule)s", rule=self.display_name),
            "res_model": "sale.order.line",
            "views": [
                [
                    self.env.ref("quote_process.sale_order_line_view_list_priced").id,
                    "list",
                ],
                [False, "form"],
            ],
            "domain": [("engine_rule_ids", "in", self.ids)],
            "context": {"create": False},
        }


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    engine_rule_ids = fields.Many2many(
        comodel_name="quote.pricing.rule",
        string="Pricing Rules Applied",
        compute="_compute_engine_rule_ids",
        search="_search_engine_rule_ids",
        help="The pricing rules that adjusted this line's engine price.",
    )

    def init(self):
        res = super().init()
        # finds the lines a rule priced without reading every line's steps:
        # the rule ids of the steps only (an index of the whole steps held
        # every amount of every step, which each save of a line paid for)
        # (the expression of _get_priced_line_stats and _search_engine_rule_ids)
        self.env.cr.execute(
            """
            DROP INDEX IF EXISTS sale_order_line_engine_rules_index;
            CREATE INDEX IF NOT EXISTS sale_order_line_engine_rule_ids_index
                ON sale_order_line USING gin
                (jsonb_path_query_array(engine_steps, '$.steps[*].rule_id'))
            """
        )
        return res

    @api.depends("engine_steps")
    def _compute_engine_rule_ids(self):
        rule_ids_by_line = {}
        for line in self:
            steps = (line.engine_steps or {}).get("steps") or []
            rule_ids_by_line[line] = [
                step["rule_id"] for step in steps if step.get("kind") == "rule"
            ]
        # one query for the rules of all the lines, deleted rules left out
        rules = self.env["quote.pricing.rule"].with_context(active_test=False)
        existing = set(
            rules.browse({i for ids in rule_ids_by_line.values() for i in ids})
            .exists()
            .ids
        )
        for line, rule_ids in rule_ids_by_line.items():
            line.engine_rule_ids = rules.browse(
                [rule_id for rule_id in rule_ids if rule_id in existing]
            )

    def _search_engine_rule_ids(self, operator, value):
        if operator != "in":
            return NotImplemented
        rule_ids = [rule_id for rule_id in value if isinstance(rule_id, int)]
        return [
            (
                "id",
                "in",
                SQL(
                    """
                    SELECT l.id
                      FROM sale_order_line l, unnest(%s) AS r(id)
                     WHERE jsonb_path_query_array(l.engine_steps, '$.steps[*].rule_id')
                           @> jsonb_build_array(r.id)
                    """,
                    rule_ids,
                ),
            )
        ]
