from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import QuoteProcessCommon


@tagged("post_install", "-at_install")
class TestPriceGuidance(QuoteProcessCommon):
    """A hand-worked history of the Guidance Desk (engine price 100.00), all
    decided in the last 365 days by the sales manager:

    =========  =====  ==========  ====  ====
    price      dev.   band        won   lost
    =========  =====  ==========  ====  ====
    102.00     +2 %   above       1     0
    100.00      0 %   tolerance   2     3
    97.00      -3 %   below_5     2     1
    92.00      -8 %   below_10    1     0
    85.00     -15 %   below_20    0     1
    =========  =====  ==========  ====  ====

    Decided 11, won 6. Won deviations -8, -3, -3, 0, 0, +2: median -1.5 %.
    Not in the history: an open quote at -25 %, a quote lost 400 days ago, a
    quote withdrawn before sending, a quote of another company. The Guidance
    Chair shares the desk's category and has no history of its own; the
    Guidance Lamp is alone in its category.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category = cls.env["product.category"].create({"name": "Guidance Desks"})
        cls.other_category = cls.env["product.category"].create(
            {"name": "Guidance Lamps"}
        )

        def product(name, category):
            return cls.env["product.product"].create(
                {
                    "name": name,
                    "list_price": 100.0,
                    "type": "consu",
                    "categ_id": category.id,
                    "taxes_id": [(6, 0, [])],
                }
            )

        cls.desk = product("Guidance Desk", cls.category)
        cls.chair = product("Guidance Chair", cls.category)
        cls.lamp = product("Guidance Lamp", cls.other_category)
        cls.tag = cls.env["res.partner.category"].create({"name": "Schools"})
        cls.school = cls.env["res.partner"].create(
            {"name": "Guidance School", "is_company": True, "category_id": cls.tag.ids}
        )
        cls.lost_reason = cls.env.ref("quote_process.lost_reason_price_higher")
        history = [
            (102.0, "won"),
            (100.0, "won"),
            (100.0, "won"),
            (100.0, "lost"),
            (100.0, "lost"),
            (100.0, "lost"),
            (97.0, "won"),
            (97.0, "won"),
            (97.0, "lost"),
            (92.0, "won"),
            (85.0, "lost"),
        ]
        # the first four of them for customers tagged "Schools"
        cls.history = cls.env["sale.order"]
        for index, (price, outcome) in enumerate(history):
            cls.history |= cls.decided_quote(
                price, outcome, partner=cls.school if index < 4 else cls.customer
            )
        cls.open_quote = cls.manager_quote(75.0)
        old = cls.decided_quote(100.0, "lost")
        old.sudo().lost_date = fields.Date.today() - timedelta(days=400)
        withdrawn = cls.manager_quote(100.0)
        withdrawn.with_user(cls.sales_manager).action_cancel()
        other_company = cls.env["res.company"].create({"name": "Guidance Other Co"})
        cls.env["sale.order"].sudo().create(
            {
                "company_id": other_company.id,
                "partner_id": cls.customer.id,
                "order_line": [(0, 0, {"product_id": cls.desk.id})],
            }
        ).action_confirm()
        cls.env["quote.guidance.stat"]._refresh()

    @classmethod
    def manager_quote(cls, price, product=None, partner=None):
        product = product or cls.desk
        line = cls.quote_line(product, qty=2)
        if price != 100.0:
            line.update(
                price_unit=price,
                deviation_reason_id=cls.deviation_reason.id,
                deviation_note="Negotiated",
            )
        return cls.create_quote(cls.sales_manager, [line], partner=partner)

    @classmethod
    def decided_quote(cls, price, outcome, partner=None):
        order = cls.manager_quote(price, partner=partner)
        if outcome == "won":
            order.with_user(cls.sales_manager).action_confirm()
        else:
            order.with_user(cls.sales_manager).action_quotation_sent()
            cls.mark_lost(order, cls.sales_manager, cls.lost_reason)
        return order

    def guidance(self, product, partner=None, user=None):
        order = self.create_quote(
            user or self.salesman,
            [self.quote_line(product)],
            partner=partner,
        )
        line = order.order_line
        return line._get_price_guidance()[line.id]

    EXPECTED_BANDS = [
        {"band": "above", "decided": 1, "won": 1},
        {"band": "tolerance", "decided": 5, "won": 2},
        {"band": "below_5", "decided": 3, "won": 2},
        {"band": "below_10", "decided": 1, "won": 1},
        {"band": "below_20", "decided": 1, "won": 0},
    ]

    def test_product_history(self):
        self.assertEqual(
            self.guidance(self.desk),
            {
                "scope": "product",
                "decided": 11,
                "won": 6,
                "median_won_deviation": -1.5,
                "bands": self.EXPECTED_BANDS,
                "narrowed_by_tags": False,
                "min_sample": 10,
            },
        )

    def test_category_when_the_product_has_no_history(self):
        guidance = self.guidance(self.chair)
        self.assertEqual(guidance["scope"], "category")
        self.assertEqual((guidance["decided"], guidance["won"]), (11, 6))
        self.assertEqual(guidance["bands"], self.EXPECTED_BANDS)

    def test_too_little_history(self):
        self.assertIsNone(self.guidance(self.lamp))
        self.company.quote_guidance_min_sample = 12
        self.assertIsNone(self.guidance(self.desk))
        self.company.quote_guidance_min_sample = 11
        self.assertEqual(self.guidance(self.desk)["decided"], 11)

    def test_customer_tags_narrow_the_sample_when_enough_remain(self):
        # School quotes: +2 % won, 0 % won, 0 % won, 0 % lost
        self.company.quote_guidance_min_sample = 4
        guidance = self.guidance(self.desk, partner=self.school)
        self.assertTrue(guidance["narrowed_by_tags"])
        self.assertEqual((guidance["decided"], guidance["won"]), (4, 3))
        self.assertEqual(guidance["median_won_deviation"], 0.0)
        self.assertEqual(
            guidance["bands"],
            [
                {"band": "above", "decided": 1, "won": 1},
                {"band": "tolerance", "decided": 3, "won": 2},
            ],
        )
        self.company.quote_guidance_min_sample = 5
        guidance = self.guidance(self.desk, partner=self.school)
        self.assertFalse(guidance["narrowed_by_tags"])
        self.assertEqual(guidance["decided"], 11)

    def test_tolerance_moves_quotes_between_bands(self):
        self.company.quote_deviation_tolerance = 3.0
        bands = {band["band"]: band for band in self.guidance(self.desk)["bands"]}
        self.assertEqual(
            bands["tolerance"], {"band": "tolerance", "decided": 9, "won": 5}
        )
        self.assertNotIn("above", bands)
        self.assertNotIn("below_5", bands)

    def shown(self, product, user, partner=None, company=None, lang="en_US"):
        """What the guidance widget shows for a line of ``product``, asked by
        ``user`` as the web client does."""
        lines = self.env["sale.order.line"].with_user(user).with_context(lang=lang)
        request = [
            product.id,
            (partner or self.customer).id,
            (company or self.company).id,
        ]
        return lines.get_price_guidance_display([request])[0]

    def test_salesperson_sees_figures_only(self):
        """Sam sees none of the manager's quotes, yet their figures guide him."""
        self.assertFalse(
            self.env["sale.order"]
            .with_user(self.salesman)
            .search_count([("id", "in", self.history.ids)])
        )
        shown = self.shown(self.desk, self.salesman)
        self.assertEqual(shown["state"], "ok")
        self.assertEqual(shown["short"], "55% won")
        self.assertEqual(shown["scope"], "Quotes of this product")
        self.assertIn("won 6 of 11", shown["summary"])
        self.assertIn("median won -1.5%", shown["summary"])
        self.assertIn("5–10% below 100% won", shown["summary"])
        self.assertIn(["5–10% below", 1, 1, "100%"], shown["bands"])
        self.assertNotIn(self.history[0].name, str(shown))

    def test_widget_batch_in_one_call(self):
        requests = [
            [self.desk.id, self.school.id, self.company.id],
            [self.chair.id, self.customer.id, self.company.id],
            [self.lamp.id, self.customer.id, self.company.id],
            [False, self.customer.id, self.company.id],
        ]
        shown = (
            self.env["sale.order.line"]
            .with_user(self.salesman)
            .get_price_guidance_display(requests)
        )
        self.assertEqual(
            [s and s["state"] for s in shown], ["ok", "ok", "too_little", False]
        )
        self.assertEqual(shown[1]["scope"], "Quotes of the category Guidance Desks")
        self.assertIn("fewer than 10", shown[2]["summary"])

    def test_widget_refuses_another_company(self):
        other = self.env["res.company"].create({"name": "Guidance Elsewhere"})
        with self.assertRaises(AccessError):
            self.shown(self.desk, self.salesman, company=other)

    def test_widget_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["quote_process"], ["zh_CN"])
        shown = self.shown(self.desk, self.salesman, lang="zh_CN")
        self.assertIn("11 张中赢得 6 张", shown["summary"])
        self.assertIn(["低于 5–10%", 1, 1, "100%"], shown["bands"])

    def test_sections_and_notes_get_none(self):
        order = self.create_quote(
            self.salesman,
            [
                {"display_type": "line_section", "name": "Desks"},
                self.quote_line(self.desk),
            ],
        )
        section = order.order_line.filtered("display_type")
        self.assertIsNone(section._get_price_guidance()[section.id])

    def test_queries_do_not_grow_with_lines(self):
        products = self.env["product.product"].create(
            [
                {
                    "name": f"Guidance Item {index}",
                    "list_price": 10.0,
                    "categ_id": self.category.id,
                }
                for index in range(20)
            ]
        )
        small = self.create_quote(
            self.salesman, [self.quote_line(self.desk), self.quote_line(self.chair)]
        )
        large = self.create_quote(
            self.salesman, [self.quote_line(product) for product in products]
        )
        self.env.flush_all()
        for order in (small, large):
            # the registry's caches (access rules) filled first
            self.env.invalidate_all()
            order.order_line._get_price_guidance()
        # the same queries for 2 lines as for 20: the lines, their products,
        # order, company, customer and tags, then one query per scope
        for order in (small, large):
            self.env.invalidate_all()
            with self.assertQueryCount(10):
                result = order.order_line._get_price_guidance()
        self.assertEqual(len(result), 20)
        self.assertTrue(all(g and g["scope"] == "category" for g in result.values()))

    def test_history_counted_by_the_daily_job(self):
        """Quotes decided today guide prices once the daily job counted them."""
        for _index in range(10):
            order = self.manager_quote(100.0, product=self.lamp)
            order.with_user(self.sales_manager).action_confirm()
        self.assertIsNone(self.guidance(self.lamp))
        cron = self.env.ref("quote_process.ir_cron_refresh_price_guidance")
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))
        self.assertEqual(cron.code.strip(), "model._cron_refresh()")
        self.env[cron.model_id.model]._cron_refresh()
        guidance = self.guidance(self.lamp)
        self.assertEqual(guidance["scope"], "product")
        self.assertEqual((guidance["decided"], guidance["won"]), (10, 10))
        self.assertEqual(
            guidance["bands"], [{"band": "tolerance", "decided": 10, "won": 10}]
        )

    def test_minimum_sample_is_positive(self):
        with self.assertRaises(ValidationError):
            self.company.quote_guidance_min_sample = 0


@tagged("post_install", "-at_install")
class TestDeviationBands(QuoteProcessCommon):
    """Each quote of 2 units at engine price 100.00 (tolerance 0.5 %)."""

    def quote(self, price, discount=0.0):
        line = self.quote_line(self.product, qty=2, price=price, discount=discount)
        if round(price * (1 - discount / 100), 2) != 100.0:
            line.update(
                deviation_reason_id=self.deviation_reason.id, deviation_note="N"
            )
        order = self.create_quote(self.sales_manager, [line])
        return self.env["quote.analysis"].search([("order_id", "=", order.id)])

    def test_bands_and_discount_given(self):
        self.product.taxes_id = False
        cases = [
            # price, discount, band, discount given (2 units)
            (103.0, 0.0, "above", -6.0),
            (100.0, 0.0, "tolerance", 0.0),
            (99.6, 0.0, "tolerance", 0.8),
            (95.0, 0.0, "below_5", 10.0),
            (100.0, 5.01, "below_10", 10.02),
            (90.0, 0.0, "below_10", 20.0),
            (80.0, 0.0, "below_20", 40.0),
            (100.0, 25.0, "below_more", 50.0),
        ]
        for price, discount, band, given in cases:
            with self.subTest(price=price, discount=discount):
                row = self.quote(price, discount)
                self.assertEqual(row.deviation_band, band)
                self.assertAlmostEqual(row.discount_amount, given, places=2)

    def test_groups_in_band_order(self):
        for price in (80.0, 103.0, 95.0):
            self.quote(price)
        groups = self.env["quote.analysis"].formatted_read_group(
            [("partner_id", "=", self.customer.id)], ["deviation_band"], ["__count"]
        )
        self.assertEqual(
            [group["deviation_band"] for group in groups],
            ["above", "below_5", "below_20"],
        )

    def test_main_deviation_reason_is_the_furthest_below(self):
        volume = self.env.ref("quote_process.deviation_reason_volume")
        order = self.create_quote(
            self.sales_manager,
            [
                self.quote_line(self.product, price=96.0, note="Volume"),
                self.quote_line(
                    self.product,
                    price=90.0,
                    deviation_reason_id=volume.id,
                    deviation_note="Volume",
                ),
            ],
        )
        row = self.env["quote.analysis"].search([("order_id", "=", order.id)])
        self.assertEqual(row.deviation_reason_id, volume)
        self.assertEqual(row.deviation_band, "below_10")

    def test_win_rate_by_band_is_the_default_graph_of_its_action(self):
        action = self.env.ref("quote_process.quote_analysis_band_action")
        self.assertEqual(
            action.view_ids[0].view_id,
            self.env.ref("quote_process.quote_analysis_view_graph_band"),
        )


@tagged("post_install", "-at_install")
class TestRuleResults(QuoteProcessCommon):
    def test_lines_priced_and_win_rate(self):
        rule = self.env["quote.pricing.rule"].create(
            {
                "name": "Widget 10% off",
                "product_id": self.product.id,
                "adjustment_type": "percent",
                "adjustment_value": -10,
            }
        )
        other = self.env["quote.pricing.rule"].create(
            {
                "name": "Never applies",
                "product_id": self.product.id,
                "min_quantity": 1000,
                "adjustment_type": "percent",
                "adjustment_value": -50,
            }
        )
        won = self.create_quote(self.sales_manager)
        won.with_user(self.sales_manager).action_confirm()
        lost = self.create_quote(
            self.sales_manager, [self.quote_line(), self.quote_line()]
        )
        lost.with_user(self.sales_manager).action_quotation_sent()
        self.mark_lost(
            lost,
            self.sales_manager,
            self.env.ref("quote_process.lost_reason_price_higher"),
        )
        self.create_quote(self.sales_manager)  # open: a line, no decision
        rules = (rule | other).with_user(self.sales_manager)
        self.assertEqual(rules.mapped("priced_line_count"), [4, 0])
        self.assertEqual(rules.mapped("priced_win_rate"), [50.0, 0.0])
        action = rules[0].action_view_priced_lines()
        lines = self.env["sale.order.line"].search(action["domain"])
        self.assertEqual(len(lines), 4)
        self.assertEqual(lines.engine_rule_ids, rule)
        # the rules of many lines are checked in one query, not one per line
        lines.invalidate_recordset(["engine_rule_ids"])
        with self.assertQueryCount(1):
            self.assertEqual(lines.mapped("engine_rule_ids"), rule)
        # the search goes through an index of the steps' rule ids only
        self.env.cr.execute(
            """
            SELECT indexname FROM pg_indexes
             WHERE tablename = 'sale_order_line'
               AND indexname LIKE 'sale_order_line_engine_rule%%'
            """
        )
        self.assertEqual(
            self.env.cr.fetchall(), [("sale_order_line_engine_rule_ids_index",)]
        )


@tagged("post_install", "-at_install")
class TestPriceGuidanceUi(HttpCase):
    """A history of ten decided quotes of the QP Guidance Desk: three won and
    four lost at the engine price, three won 8 % below (median won: -4 %)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env,
            login="qp_guidance_salesman",
            name="QP Guidance Salesperson",
            groups="sales_team.group_sale_salesman",
        )
        manager = new_test_user(
            cls.env,
            login="qp_guidance_manager",
            name="QP Guidance Manager",
            groups="sales_team.group_sale_manager",
        )
        cls.env["quote.pricing.rule"].search([]).active = False
        cls.desk = cls.env["product.product"].create(
            {"name": "QP Guidance Desk", "list_price": 100.0, "taxes_id": False}
        )
        customer = cls.env["res.partner"].create(
            {"name": "QP Guidance Customer", "is_company": True}
        )
        reason = cls.env.ref("quote_process.deviation_reason_volume")
        lost_reason = cls.env.ref("quote_process.lost_reason_price_higher")
        orders = cls.env["sale.order"].with_user(manager)
        for price, won in (
            [(100.0, True)] * 3 + [(100.0, False)] * 4 + [(92.0, True)] * 3
        ):
            line = {"product_id": cls.desk.id, "price_unit": price}
            if price != 100.0:
                line.update(deviation_reason_id=reason.id, deviation_note="Volume")
            order = orders.create(
                {"partner_id": customer.id, "order_line": [Command.create(line)]}
            )
            if won:
                order.action_confirm()
            else:
                order.action_quotation_sent()
                action = order.action_mark_lost()
                cls.env["quote.lost.wizard"].with_user(manager).with_context(
                    **action["context"]
                ).create({"lost_reason_id": lost_reason.id}).action_confirm()
        cls.env["quote.guidance.stat"]._refresh()
        cls.quote = (
            cls.env["sale.order"]
            .with_user(cls.salesman)
            .create(
                {
                    "partner_id": customer.id,
                    "order_line": [Command.create({"product_id": cls.desk.id})],
                }
            )
        )

    def test_salesperson_reads_the_guidance(self):
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{self.quote.id}",
            "quote_process_price_guidance_tour",
            login=self.salesman.login,
        )
