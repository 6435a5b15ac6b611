from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import tagged

from .common import LostQuoteCommon


@tagged("post_install", "-at_install")
class TestQuoteAnalysis(LostQuoteCommon):
    """A known data set, with the expected numbers worked out by hand.

    Sam (salesman):  won 1000, won 500, lost 300 (price), lost 200 (price),
                     lost 100 (speed), open 50.
    Alex (all docs): won 700, lost 400 (budget), lost 250 (price), open 80,
                     and a draft withdrawn before sending (no outcome).

    Won 3, lost 5, open 2, decided 8: win rate 3 / 8 = 37.5 %.
    Lost by reason, in count: price 3/5 = 60 %, speed 1/5 = 20 %, budget 20 %.
    Lost by reason, in amount (1250): price 750 = 60 %, speed 100 = 8 %,
    budget 400 = 32 %.
    Sam's win rate 2 / 5 = 40 %; Alex's 1 / 3 = 33.33 %.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.analysis_customer = cls.env["res.partner"].create(
            {"name": "Analysis Customer Ltd", "is_company": True}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Ann Buyer", "parent_id": cls.analysis_customer.id}
        )
        cls.orders = cls.env["sale.order"]

        def quote(user, amount, outcome, reason=None):
            order = cls._create_quote(user, amount, partner=cls.contact)
            if outcome == "won":
                order.action_confirm()
            elif outcome == "lost":
                order.with_user(user).action_quotation_sent()
                cls.mark_lost(order, user, reason)
            cls.orders |= order
            return order

        sam, alex = cls.salesman, cls.salesman_all
        quote(sam, 1000.0, "won")
        quote(sam, 500.0, "won")
        quote(sam, 300.0, "lost", cls.reason_price)
        quote(sam, 200.0, "lost", cls.reason_price)
        quote(sam, 100.0, "lost", cls.reason_speed)
        quote(sam, 50.0, "open")
        quote(alex, 700.0, "won")
        quote(alex, 400.0, "lost", cls.reason_budget)
        quote(alex, 250.0, "lost", cls.reason_price)
        quote(alex, 80.0, "open")
        cls.withdrawn = cls._create_quote(alex, 999.0, partner=cls.contact)
        cls.withdrawn.with_user(alex).action_cancel()
        cls.domain = [("partner_id", "=", cls.analysis_customer.id)]

    def _analysis(self, user=None):
        model = self.env["quote.analysis"]
        return model.with_user(user) if user else model

    def test_one_row_per_quote_with_outcome(self):
        rows = self._analysis().search(self.domain)
        self.assertEqual(len(rows), 10)
        self.assertEqual(rows.order_id, self.orders)
        self.assertNotIn(self.withdrawn, rows.order_id)
        counts = dict(
            self._analysis()._read_group(self.domain, ["outcome"], ["__count"])
        )
        self.assertEqual(counts, {"won": 3, "lost": 5, "open": 2})
        # The customer is the commercial entity, not the contact ordered for.
        self.assertEqual(rows.partner_id, self.analysis_customer)
        self.assertEqual(rows.categ_id, self.categ_machines)
        for row in rows:
            self.assertAlmostEqual(row.amount_untaxed, row.order_id.amount_untaxed)
            self.assertEqual(row.currency_id, self.env.company.currency_id)

    def test_win_rate(self):
        [(won, lost, decided, win_rate)] = self._analysis()._read_group(
            self.domain,
            [],
            ["won_count:sum", "lost_count:sum", "decided_count:sum", "win_rate:avg"],
        )
        self.assertEqual((won, lost, decided), (3, 5, 8))
        self.assertAlmostEqual(win_rate, 37.5)
        per_user = dict(
            self._analysis()._read_group(self.domain, ["user_id"], ["win_rate:avg"])
        )
        self.assertAlmostEqual(per_user[self.salesman], 40.0)
        self.assertAlmostEqual(per_user[self.salesman_all], 100.0 / 3, places=6)

    def test_lost_shares_by_reason(self):
        lost_domain = [*self.domain, ("outcome", "=", "lost")]
        groups = self._analysis()._read_group(
            lost_domain, ["lost_reason_id"], ["lost_count:sum", "amount_untaxed:sum"]
        )
        total_count = sum(count for __, count, __ in groups)
        total_amount = sum(amount for __, __, amount in groups)
        self.assertEqual(total_count, 5)
        self.assertAlmostEqual(total_amount, 1250.0)
        shares = {
            reason: (count / total_count, amount / total_amount)
            for reason, count, amount in groups
        }
        self.assertEqual(
            set(shares), {self.reason_price, self.reason_speed, self.reason_budget}
        )
        self.assertAlmostEqual(shares[self.reason_price][0], 0.60)
        self.assertAlmostEqual(shares[self.reason_speed][0], 0.20)
        self.assertAlmostEqual(shares[self.reason_budget][0], 0.20)
        self.assertAlmostEqual(shares[self.reason_price][1], 0.60)
        self.assertAlmostEqual(shares[self.reason_speed][1], 0.08)
        self.assertAlmostEqual(shares[self.reason_budget][1], 0.32)

    def test_lost_by_category(self):
        groups = dict(
            self._analysis()._read_group(
                [*self.domain, ("outcome", "=", "lost")],
                ["lost_reason_category"],
                ["__count"],
            )
        )
        self.assertEqual(groups, {"price": 3, "speed": 1, "budget": 1})

    def test_main_product_category(self):
        """The category of the largest line stands for the quotation."""
        order = self._create_quote(self.salesman, 40.0, partner=self.contact)
        order.write(
            {
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.service.id,
                            "product_uom_qty": 60,
                        }
                    ),
                    Command.create({"display_type": "line_note", "name": "Note"}),
                ]
            }
        )
        row = self._analysis().search([("order_id", "=", order.id)])
        self.assertEqual(row.categ_id, self.categ_services)
        self.assertAlmostEqual(row.amount_untaxed, 100.0)
        self.assertEqual(order.quote_main_product_id, self.service)
        # the product's category as it is now
        other_category = self.env["product.category"].create({"name": "QP Other"})
        self.service.categ_id = other_category
        row.invalidate_recordset()
        row = self._analysis().search([("order_id", "=", order.id)])
        self.assertEqual(row.categ_id, other_category)
        # the largest line gone, the next one stands for the quotation
        order.order_line.filtered(lambda line: line.product_id == self.service).unlink()
        self.assertNotEqual(order.quote_main_product_id, self.service)
        self.assertTrue(order.quote_main_product_id)
        row.invalidate_recordset()
        row = self._analysis().search([("order_id", "=", order.id)])
        self.assertEqual(row.categ_id, order.quote_main_product_id.categ_id)

    def test_default_view_is_lost_by_reason_pie(self):
        action = self.env.ref("quote_process.quote_analysis_action")
        self.assertEqual(action.view_id.type, "graph")
        arch = action.view_id.arch
        self.assertIn('type="pie"', arch)
        self.assertIn('name="lost_reason_id"', arch)
        self.assertIn("search_default_lost", action.context)
        menu = self.env.ref("quote_process.menu_quote_analysis")
        self.assertEqual(menu.parent_id, self.env.ref("sale.menu_sale_report"))

    def test_access_per_role(self):
        own = self._analysis(self.salesman).search(self.domain)
        self.assertEqual(len(own), 6)
        self.assertEqual(own.user_id, self.salesman)
        [(win_rate,)] = self._analysis(self.salesman)._read_group(
            self.domain, [], ["win_rate:avg"]
        )
        self.assertAlmostEqual(win_rate, 40.0)
        for user in (self.salesman_all, self.sales_manager):
            self.assertEqual(len(self._analysis(user).search(self.domain)), 10)
        with self.assertRaises(AccessError):
            self._analysis(self.sales_manager).search(self.domain).write(
                {"outcome": "won"}
            )
        portal = self.env["res.users"].create(
            {
                "name": "Analysis Portal",
                "login": "qp_analysis_portal",
                "group_ids": [Command.set([self.env.ref("base.group_portal").id])],
            }
        )
        with self.assertRaises(AccessError):
            self._analysis(portal).search(self.domain)

    def test_multi_company_rule(self):
        other_company = self.env["res.company"].create({"name": "Other Quote Co"})
        self.sales_manager.write({"company_ids": [Command.link(other_company.id)]})
        order = self.create_quote(
            lines=[self.quote_line(self.machine)],
            partner=self.analysis_customer,
            company_id=other_company.id,
            user_id=self.salesman_all.id,
        )
        # Not a company of the user.
        analysis = self._analysis(self.salesman_all)
        self.assertNotIn(order, analysis.search(self.domain).order_id)
        # A company of the user, but not among the selected ones.
        manager_analysis = self._analysis(self.sales_manager).with_context(
            allowed_company_ids=[self.env.company.id]
        )
        self.assertNotIn(order, manager_analysis.search(self.domain).order_id)
        both = manager_analysis.with_context(
            allowed_company_ids=[self.env.company.id, other_company.id]
        )
        self.assertIn(order, both.search(self.domain).order_id)


@tagged("post_install", "-at_install")
class TestQuoteAnalysisProcessColumns(LostQuoteCommon):
    def test_response_deviation_and_reminders(self):
        with freeze_time("2026-03-02 09:00:00"):
            order = self._create_quote(self.salesman, 200.0)
            order.order_line.write(
                {
                    "price_unit": 0.96,
                    "deviation_reason_id": self.env.ref(
                        "quote_process.deviation_reason_volume"
                    ).id,
                    "deviation_note": "Framework agreement",
                }
            )
            order.with_user(self.salesman).action_quotation_sent()
        order.sudo().reminder_count = 2
        with freeze_time("2026-03-05 21:00:00"):
            order.with_user(self.salesman).write({"customer_response": "negotiating"})
        row = self.env["quote.analysis"].search([("order_id", "=", order.id)])
        self.assertAlmostEqual(row.days_to_response, 3.5)
        self.assertAlmostEqual(row.max_deviation_percent, 4.0)
        self.assertEqual(row.reminder_count, 2)
        self.assertEqual(row.customer_response, "negotiating")
        groups = self.env["quote.analysis"]._read_group(
            [("order_id", "=", order.id)],
            [],
            ["days_to_response:avg", "max_deviation_percent:max"],
        )
        self.assertAlmostEqual(groups[0][0], 3.5)
        self.assertAlmostEqual(groups[0][1], 4.0)
