import copy
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import QuoteProcessCommon


class PricingEngineCommon(QuoteProcessCommon):
    """Products at 100 in the company currency, a pricelist, and the records the
    rules' conditions refer to. Demo rules are archived so that only the rules
    of each test apply."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # These tests set manual prices to check the engine keeps them; the
        # reasons such prices need are tested in test_deviation_approval.
        cls.env.company.quote_deviation_tolerance = 100.0
        cls.env = cls.env(context=dict(cls.env.context, tz="UTC"))
        cls.env["quote.pricing.rule"].search([]).active = False
        cls.currency = cls.company.currency_id
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "QP Public", "currency_id": cls.currency.id}
        )
        cls.other_pricelist = cls.env["product.pricelist"].create(
            {"name": "QP Resellers", "currency_id": cls.currency.id}
        )
        cls.categ_parent = cls.env["product.category"].create({"name": "QP Furniture"})
        cls.categ_child = cls.env["product.category"].create(
            {"name": "QP Chairs", "parent_id": cls.categ_parent.id}
        )
        cls.categ_other = cls.env["product.category"].create({"name": "QP Paper"})
        cls.product.write({"categ_id": cls.categ_child.id, "taxes_id": False})
        cls.other_product = cls.env["product.product"].create(
            {
                "name": "QP Paper Ream",
                "list_price": 100.0,
                "type": "consu",
                "categ_id": cls.categ_other.id,
                "taxes_id": False,
            }
        )
        cls.tag_vip = cls.env["res.partner.category"].create({"name": "QP VIP"})
        cls.vip_customer = cls.env["res.partner"].create(
            {
                "name": "QP VIP Customer",
                "is_company": True,
                "category_id": [Command.set(cls.tag_vip.ids)],
            }
        )
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "QP Buyer", "parent_id": cls.customer.id}
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "QP Other Customer", "is_company": True}
        )
        cls.term_advance = cls.env["account.payment.term"].create(
            {"name": "QP In Advance"}
        )
        cls.term_60 = cls.env["account.payment.term"].create({"name": "QP 60 Days"})
        cls.team_a = cls.env["crm.team"].create({"name": "QP Team A"})
        cls.team_b = cls.env["crm.team"].create({"name": "QP Team B"})
        journals = cls.env["account.journal"].create(
            [
                {"name": "QP Bank A", "type": "bank", "code": "QPBA"},
                {"name": "QP Bank B", "type": "bank", "code": "QPBB"},
            ]
        )
        cls.method_a = journals[0].inbound_payment_method_line_ids[:1]
        cls.method_b = journals[1].inbound_payment_method_line_ids[:1]

    def _rule(self, **values):
        values = {
            "name": "QP Rule",
            "adjustment_type": "percent",
            "adjustment_value": -10.0,
            **values,
        }
        return self.env["quote.pricing.rule"].create(values)

    def _order(self, lines=None, **values):
        """A quote dated 15 March 2025, by default one line of 1 x product."""
        if lines is None:
            lines = [(self.product, 1.0)]
        values = {
            "pricelist_id": self.pricelist.id,
            "date_order": "2025-03-15 12:00:00",
            "payment_term_id": False,
            **values,
        }
        return self.create_quote(
            lines=[self.quote_line(product, qty=qty) for product, qty in lines],
            **values,
        )

    def _engine_price(self, lines=None, **values):
        return self._order(lines, **values).order_line.engine_price_unit

    def assertAtEnginePrice(self, line, price):
        """The line shows the engine price and charges it."""
        self.assertAlmostEqual(line.engine_price_unit, price)
        self.assertAlmostEqual(line.price_unit * (1 - line.discount / 100), price)


@tagged("post_install", "-at_install")
class TestPricingEngine(PricingEngineCommon):
    # ------------------------------------------------------------------
    # Start: the pricelist price
    # ------------------------------------------------------------------

    def test_start_is_pricelist_price(self):
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": self.product.id,
                "compute_price": "fixed",
                "fixed_price": 80.0,
            }
        )
        line = self._order().order_line
        self.assertAtEnginePrice(line, 80.0)
        self.assertIn("QP Public", line.engine_trace)
        self.assertAlmostEqual(
            self._engine_price(pricelist_id=self.other_pricelist.id), 100.0
        )

    def test_pricelist_discount_shown_by_odoo(self):
        """With discounts shown on lines, Odoo would charge 100 less 10%: the
        engine starts from 90 and the new line is at the engine price, the
        discount the pricelist shows kept."""
        self.env.ref("base.group_user").write(
            {
                "implied_ids": [
                    Command.link(self.env.ref("sale.group_discount_per_so_line").id)
                ]
            }
        )
        self.env.registry.clear_cache("groups")
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "compute_price": "percentage",
                "percent_price": 10.0,
            }
        )
        line = self._order().order_line
        self.assertTrue(line.pricelist_item_id._show_discount())
        self.assertAtEnginePrice(line, 90.0)
        self._rule(adjustment_value=-5.0)
        line = self._order().order_line
        self.assertAtEnginePrice(line, 85.5)
        self.assertAlmostEqual(line.discount, 10.0)
        self.assertAlmostEqual(line.price_unit, 95.0)

    # ------------------------------------------------------------------
    # Conditions
    # ------------------------------------------------------------------

    def test_each_condition(self):
        cases = [
            (
                "product_id",
                {"product_id": self.product.id},
                {},
                {"lines": [(self.other_product, 1.0)]},
            ),
            (
                "product_tmpl_id",
                {"product_tmpl_id": self.product.product_tmpl_id.id},
                {},
                {"lines": [(self.other_product, 1.0)]},
            ),
            (
                "categ_id (children included)",
                {"categ_id": self.categ_parent.id},
                {},
                {"lines": [(self.other_product, 1.0)]},
            ),
            (
                "partner_id (commercial entity)",
                {"partner_id": self.customer.id},
                {"partner_id": self.customer_contact.id},
                {"partner_id": self.other_customer.id},
            ),
            (
                "partner_category_ids",
                {"partner_category_ids": [Command.set(self.tag_vip.ids)]},
                {"partner_id": self.vip_customer.id},
                {"partner_id": self.other_customer.id},
            ),
            (
                "pricelist_id",
                {"pricelist_id": self.pricelist.id},
                {},
                {"pricelist_id": self.other_pricelist.id},
            ),
            (
                "payment_term_id",
                {"payment_term_id": self.term_advance.id},
                {"payment_term_id": self.term_advance.id},
                {"payment_term_id": self.term_60.id},
            ),
            (
                "payment_method_line_id",
                {"payment_method_line_id": self.method_a.id},
                {"preferred_payment_method_line_id": self.method_a.id},
                {"preferred_payment_method_line_id": self.method_b.id},
            ),
            (
                "team_id",
                {"team_id": self.team_a.id},
                {"team_id": self.team_a.id},
                {"team_id": self.team_b.id},
            ),
        ]
        for condition, rule_values, matching, not_matching in cases:
            with self.subTest(condition=condition):
                rule = self._rule(name=f"QP {condition}", **rule_values)
                self.assertAlmostEqual(self._engine_price(**matching), 90.0)
                self.assertAlmostEqual(self._engine_price(**not_matching), 100.0)
                rule.unlink()

    def test_archived_tag_and_merged_customer_apply_at_once(self):
        """The engine's cache of rules follows a tag archived and a customer
        merged into another (the merge moves the rules in SQL)."""
        rule = self._rule(partner_category_ids=[Command.set(self.tag_vip.ids)])
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 100.0
        )
        # an archived tag is no condition any more, as the rule reads it
        self.tag_vip.active = False
        self.assertFalse(rule.partner_category_ids)
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 90.0
        )
        rule.active = False
        merged = self.env["res.partner"].create(
            {"name": "QP Merged", "is_company": True}
        )
        self._rule(partner_id=merged.id, adjustment_value=-30.0)
        self.assertAlmostEqual(self._engine_price(partner_id=merged.id), 70.0)
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 100.0
        )
        self.env["base.partner.merge.automatic.wizard"]._merge(
            (merged | self.other_customer).ids, self.other_customer, extra_checks=False
        )
        self.assertFalse(merged.exists())
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 70.0
        )

    def test_rule_changes_apply_to_the_next_price(self):
        """The engine keeps the rules between requests: every change of a rule,
        of a customer tag or of a contact's company applies at once."""
        rule = self._rule(partner_category_ids=[Command.set(self.tag_vip.ids)])
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.vip_customer.id), 90.0
        )
        rule.adjustment_value = -20.0
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.vip_customer.id), 80.0
        )
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 100.0
        )
        # Deleting the tag leaves the rule without condition on tags, as in
        # the database: it holds for every customer.
        self.tag_vip.unlink()
        self.assertFalse(rule.partner_category_ids)
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 80.0
        )
        rule.active = False
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 100.0
        )
        # A rule for a contact holds for the company the contact is in now.
        contact_rule = self._rule(partner_id=self.customer_contact.id)
        self.assertAlmostEqual(self._engine_price(partner_id=self.customer.id), 90.0)
        self.customer_contact.parent_id = self.other_customer
        self.assertAlmostEqual(self._engine_price(partner_id=self.customer.id), 100.0)
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 90.0
        )
        # ... and for the company that company becomes part of
        holding = self.env["res.partner"].create(
            {"name": "Holding", "is_company": True}
        )
        self.other_customer.write({"parent_id": holding.id, "is_company": False})
        self.assertAlmostEqual(self._engine_price(partner_id=holding.id), 90.0)
        # a deleted contact takes its rules along
        self.customer_contact.unlink()
        self.assertFalse(contact_rule.exists())
        self.assertAlmostEqual(self._engine_price(partner_id=holding.id), 100.0)
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 100.0
        )
        self._rule(adjustment_value=-5.0)
        self.assertAlmostEqual(
            self._engine_price(partner_id=self.other_customer.id), 95.0
        )

    def test_engine_follows_what_odoo_prices_with(self):
        """Whatever Odoo's unit price follows on this database (an app that
        prices lines its own way adds to it), the engine price follows too."""
        line_fields = self.env["sale.order.line"]._fields
        engine_depends = set(
            self.registry.field_depends[line_fields["engine_price_unit"]]
        )
        price_depends = set(self.registry.field_depends[line_fields["price_unit"]])
        self.assertIn("product_uom_qty", price_depends)
        self.assertLessEqual(price_depends - {"engine_price_unit"}, engine_depends)
        self.assertIn("order_id.payment_term_id", engine_depends)

    def test_conditions_all_must_match(self):
        self._rule(product_id=self.product.id, team_id=self.team_a.id)
        self.assertAlmostEqual(self._engine_price(team_id=self.team_a.id), 90.0)
        self.assertAlmostEqual(self._engine_price(team_id=self.team_b.id), 100.0)
        self.assertAlmostEqual(
            self._engine_price([(self.other_product, 1.0)], team_id=self.team_a.id),
            100.0,
        )

    def test_min_quantity_boundary(self):
        self._rule(min_quantity=10.0)
        self.assertAlmostEqual(self._engine_price([(self.product, 9.99)]), 100.0)
        self.assertAlmostEqual(self._engine_price([(self.product, 10.0)]), 90.0)
        # Counted in the product's unit: 1 dozen is 12 units.
        order = self._order()
        order.order_line.write(
            {"product_uom_id": self.env.ref("uom.product_uom_dozen").id}
        )
        self.assertAtEnginePrice(order.order_line, 1080.0)

    def test_date_boundaries(self):
        self._rule(date_start="2025-03-01", date_end="2025-03-31")
        for date_order, expected in (
            ("2025-02-28 23:59:59", 100.0),
            ("2025-03-01 00:00:00", 90.0),
            ("2025-03-31 23:59:59", 90.0),
            ("2025-04-01 00:00:00", 100.0),
        ):
            with self.subTest(date_order=date_order):
                self.assertAlmostEqual(
                    self._engine_price(date_order=date_order), expected
                )

    def test_date_in_user_timezone(self):
        """28 February 20:00 UTC is already 1 March in Shanghai."""
        self._rule(date_start="2025-03-01")
        self.salesman.tz = "Asia/Shanghai"
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .with_context(tz="Asia/Shanghai")
            .create(
                {
                    "partner_id": self.customer.id,
                    "pricelist_id": self.pricelist.id,
                    "date_order": "2025-02-28 20:00:00",
                    "order_line": [Command.create({"product_id": self.product.id})],
                }
            )
        )
        self.assertAlmostEqual(order.order_line.engine_price_unit, 90.0)

    # ------------------------------------------------------------------
    # Adjustments, order, stop
    # ------------------------------------------------------------------

    def test_each_adjustment(self):
        for adjustment_type, value, expected in (
            ("percent", -5.0, 95.0),
            ("percent", 3.0, 103.0),
            ("fixed_amount", -7.0, 93.0),
            ("fixed_amount", 4.5, 104.5),
            ("fixed_amount", -150.0, 0.0),
            ("fixed_price", 80.0, 80.0),
            ("fixed_price", 0.0, 0.0),
        ):
            with self.subTest(adjustment_type=adjustment_type, value=value):
                rule = self._rule(
                    adjustment_type=adjustment_type, adjustment_value=value
                )
                self.assertAtEnginePrice(self._order().order_line, expected)
                rule.unlink()

    def test_sequence_and_stop_processing(self):
        percent = self._rule(name="Ten off", sequence=1, adjustment_value=-10.0)
        amount = self._rule(
            name="Five less",
            sequence=2,
            adjustment_type="fixed_amount",
            adjustment_value=-5.0,
        )
        self.assertAlmostEqual(self._engine_price(), 85.0)  # (100 * 0.9) - 5
        percent.sequence = 3
        self.assertAlmostEqual(self._engine_price(), 85.5)  # (100 - 5) * 0.9
        amount.stop_processing = True
        line = self._order().order_line
        self.assertAtEnginePrice(line, 95.0)
        self.assertNotIn("Ten off", line.engine_trace)
        # A rule that does not match does not stop anything.
        amount.min_quantity = 5.0
        self.assertAlmostEqual(self._engine_price(), 90.0)

    def test_trace_explains_each_step(self):
        self._rule(name="Loyalty", sequence=1, adjustment_value=-10.0)
        self._rule(
            name="Handling",
            sequence=2,
            adjustment_type="fixed_amount",
            adjustment_value=2.0,
            stop_processing=True,
        )
        trace = self._order().order_line.engine_trace.splitlines()
        self.assertEqual(len(trace), 4, trace)
        self.assertIn("QP Public", trace[0])
        self.assertIn("100.00", trace[0])
        self.assertIn("Loyalty", trace[1])
        self.assertIn("-10%", trace[1])
        self.assertIn("90.00", trace[1])
        self.assertIn("Handling", trace[2])
        self.assertIn("92.00", trace[2])
        self.assertIn("later rules skipped", trace[2])
        self.assertIn("92.00", trace[3])

    def test_trace_effects_and_steps_stored_earlier(self):
        """Each rule step shows its effect, from the price before it; steps
        stored by earlier versions (with their effect, the rule's name and its
        adjustment in separate keys) read as they did."""
        self._rule(name="Loyalty", sequence=1, adjustment_value=-10.0)
        line = self._order().order_line
        effect, price = line.engine_trace.splitlines()[1].split("→")
        self.assertIn("Loyalty", effect)
        self.assertIn("- ", effect)
        self.assertIn("10.00", effect)
        self.assertIn("90.00", price)
        Line = self.env["sale.order.line"].with_user(self.salesman)
        values = {
            "engine_steps": {
                "steps": [
                    {"kind": "pricelist", "pricelist_id": False, "price": 100.0},
                    {
                        "kind": "rule",
                        "rule_id": 0,
                        "name": "Old Rule",
                        "adjustment_type": "percent",
                        "adjustment_value": -5.0,
                        "effect": -5.0,
                        "price": 95.0,
                    },
                    {
                        "kind": "rule",
                        "rule_id": 0,
                        "adjustment": ["fixed_amount", 2.0],
                        "price": 97.0,
                    },
                ]
            },
            "engine_price_unit": 97.0,
            "currency_id": line.currency_id.id,
            "company_id": line.company_id.id,
        }
        texts = Line.get_engine_trace_display(values)
        effect, price = texts[1].split("→")
        self.assertIn("Old Rule", effect)
        self.assertIn("-5%", effect)
        self.assertIn("5.00", effect)
        self.assertIn("95.00", price)
        effect, price = texts[2].split("→")
        self.assertIn("+ ", effect)
        self.assertIn("2.00", effect)
        self.assertIn("97.00", price)

    def test_trace_for_the_price_widget(self):
        """The price widget asks for the explanation of a line as the form
        holds it: the same texts as the line's, saved or not; the rules the
        reader may not read are not named."""
        rule = self._rule(name="Loyalty", sequence=1, adjustment_value=-10.0)
        line = self._order().order_line
        Line = self.env["sale.order.line"].with_user(self.salesman)
        values = {
            "engine_steps": copy.deepcopy(line.engine_steps),
            "engine_price_unit": line.engine_price_unit,
            "currency_id": line.currency_id.id,
            "company_id": line.company_id.id,
        }
        self.assertEqual(
            Line.get_engine_trace_display(values), line.engine_trace.splitlines()
        )
        # a line being edited: its steps as the form computed them
        values["engine_steps"]["steps"][-1]["price"] = 81.0
        values["engine_price_unit"] = 81.0
        texts = Line.get_engine_trace_display(values)
        self.assertIn("Loyalty", texts[1])
        self.assertIn("81.00", texts[1])
        self.assertIn("81.00", texts[-1])
        # a rule of another company is not named
        rule.company_id = self.env["res.company"].create({"name": "QP Elsewhere"})
        texts = Line.get_engine_trace_display(values)
        self.assertNotIn("Loyalty", texts[1])
        self.assertIn("(deleted)", texts[1])
        self.assertEqual(Line.get_engine_trace_display({}), [])
        # steps that the engine did not write are refused with a clear error
        for steps in ({"steps": [{"kind": "rule"}]}, {"steps": ["x"]}, ["x"]):
            with self.subTest(steps=steps), self.assertRaises(UserError):
                Line.get_engine_trace_display({**values, "engine_steps": steps})

    # ------------------------------------------------------------------
    # Currency
    # ------------------------------------------------------------------

    def test_currency_conversion(self):
        """Rule amounts are in the company currency, converted at the order date."""
        foreign = self.env.ref("base.EUR")
        if foreign == self.currency:
            foreign = self.env.ref("base.USD")
        foreign.active = True
        self.env["res.currency.rate"].create(
            [
                {"currency_id": foreign.id, "name": "2025-01-01", "rate": 2.0},
                {"currency_id": foreign.id, "name": "2025-06-01", "rate": 4.0},
            ]
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "QP Foreign", "currency_id": foreign.id}
        )
        amount = self._rule(
            name="Ten less", adjustment_type="fixed_amount", adjustment_value=-10.0
        )
        line = self._order(pricelist_id=pricelist.id).order_line
        self.assertEqual(line.currency_id, foreign)
        self.assertAtEnginePrice(line, 180.0)  # 200 - 10 * 2
        amount.write({"adjustment_type": "fixed_price", "adjustment_value": 50.0})
        self.assertAlmostEqual(self._engine_price(pricelist_id=pricelist.id), 100.0)
        self.assertAlmostEqual(
            self._engine_price(
                pricelist_id=pricelist.id, date_order="2025-07-01 12:00:00"
            ),
            200.0,
        )
        amount.write({"adjustment_type": "percent", "adjustment_value": -10.0})
        self.assertAlmostEqual(self._engine_price(pricelist_id=pricelist.id), 180.0)

    # ------------------------------------------------------------------
    # Companies and access
    # ------------------------------------------------------------------

    def test_company_isolation(self):
        other_company = self.env["res.company"].create({"name": "QP Other Company"})
        other_rule = self._rule(company_id=other_company.id, adjustment_value=-50.0)
        self.assertAlmostEqual(self._engine_price(), 100.0)
        order = (
            self.env["sale.order"]
            .with_company(other_company)
            .create(
                {
                    "company_id": other_company.id,
                    "partner_id": self.customer.id,
                    "order_line": [Command.create({"product_id": self.product.id})],
                }
            )
        )
        self.assertAlmostEqual(order.order_line.engine_price_unit, 50.0)
        # The rules of the order's company apply, whatever company the user
        # works in.
        order_a = self._order()
        order_a.with_company(other_company).order_line.product_uom_qty = 2.0
        self.assertAlmostEqual(order_a.order_line.engine_price_unit, 100.0)
        Rule = self.env["quote.pricing.rule"].with_user(self.salesman)
        self.assertNotIn(other_rule, Rule.search([("active", "in", (True, False))]))
        with self.assertRaises(AccessError):
            other_rule.with_user(self.salesman).read(["name"])

    def test_access_rights(self):
        rule = self._rule()
        self.assertEqual(
            rule.with_user(self.salesman).read(["name"])[0]["name"], "QP Rule"
        )
        Rule = self.env["quote.pricing.rule"]
        for user in (self.salesman, self.salesman_all):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    Rule.with_user(user).create({"name": "X", "adjustment_value": -1})
                with self.assertRaises(AccessError):
                    rule.with_user(user).write({"adjustment_value": -50.0})
                with self.assertRaises(AccessError):
                    rule.with_user(user).unlink()
        managed = Rule.with_user(self.sales_manager).create(
            {"name": "Managed", "adjustment_value": -1.0}
        )
        managed.write({"adjustment_value": -2.0})
        managed.unlink()

    # ------------------------------------------------------------------
    # Server-side only
    # ------------------------------------------------------------------

    def test_client_cannot_set_engine_price(self):
        self._rule()
        order = self._order(lines=[])
        SaleLine = self.env["sale.order.line"].with_user(self.salesman)
        order.user_id = self.salesman
        line = SaleLine.create(
            {
                "order_id": order.id,
                "product_id": self.product.id,
                "engine_price_unit": 1.0,
                "engine_steps": {"inputs": [], "steps": []},
            }
        )
        self.assertAtEnginePrice(line, 90.0)
        line.write({"engine_price_unit": 5.0, "engine_steps": False})
        self.assertAlmostEqual(line.engine_price_unit, 90.0)
        self.assertIn("QP Rule", line.engine_trace)
        order.with_user(self.salesman).write(
            {"order_line": [Command.update(line.id, {"engine_price_unit": 7.0})]}
        )
        self.env.invalidate_all()
        self.assertAlmostEqual(line.engine_price_unit, 90.0)
        # A unit price sent by the client is the price; the engine price stays.
        other = SaleLine.create(
            {
                "order_id": order.id,
                "product_id": self.product.id,
                "price_unit": 70.0,
                "engine_price_unit": 70.0,
            }
        )
        self.assertAlmostEqual(other.price_unit, 70.0)
        self.assertAlmostEqual(other.engine_price_unit, 90.0)

    # ------------------------------------------------------------------
    # The engine price becomes the line's price
    # ------------------------------------------------------------------

    def test_new_line_in_form_gets_engine_price(self):
        self._rule(min_quantity=10.0)
        self.customer.property_product_pricelist = self.pricelist
        form = Form(self.env["sale.order"].with_user(self.salesman))
        form.partner_id = self.customer
        with form.order_line.new() as line:
            line.product_id = self.product
            self.assertAlmostEqual(line.price_unit, 100.0)
            line.product_uom_qty = 10.0
            self.assertAlmostEqual(line.price_unit, 90.0)
            self.assertAlmostEqual(line.engine_price_unit, 90.0)
        order = form.save()
        self.assertAtEnginePrice(order.order_line, 90.0)
        self.assertIn("QP Rule", order.order_line.engine_trace)

    def test_manual_price_is_kept(self):
        self._rule(min_quantity=10.0)
        order = self._order([(self.product, 1.0), (self.product, 1.0)])
        auto, manual = order.order_line
        manual.price_unit = 97.0
        (auto | manual).product_uom_qty = 10.0
        self.assertAtEnginePrice(auto, 90.0)
        self.assertAlmostEqual(manual.price_unit, 97.0)
        self.assertAlmostEqual(manual.engine_price_unit, 90.0)

    def test_order_change_reprices_lines_at_engine_price(self):
        self._rule(payment_term_id=self.term_advance.id, adjustment_value=-2.0)
        order = self._order([(self.product, 1.0), (self.product, 1.0)])
        auto, manual = order.order_line
        manual.write({"price_unit": 100.0, "discount": 5.0})
        manual.price_unit = 99.0
        order.payment_term_id = self.term_advance
        self.assertAtEnginePrice(auto, 98.0)
        self.assertAlmostEqual(manual.engine_price_unit, 98.0)
        self.assertAlmostEqual(manual.price_unit, 99.0)
        self.assertAlmostEqual(manual.discount, 5.0)

    def test_discount_on_engine_priced_line_is_kept_on_order_change(self):
        self._rule(payment_term_id=self.term_advance.id, adjustment_value=-2.0)
        line = self._order().order_line
        line.discount = 4.0
        line.order_id.payment_term_id = self.term_advance
        self.assertAlmostEqual(line.price_unit, 98.0)
        self.assertAlmostEqual(line.discount, 4.0)

    def test_quantity_change_resets_discount_like_odoo(self):
        """As in Odoo, a new quantity reprices a line that is at the computed
        price, discount included; a price set by hand keeps Odoo's behaviour."""
        self._rule(min_quantity=5.0)
        line = self._order().order_line
        line.discount = 5.0
        line.product_uom_qty = 5.0
        self.assertAtEnginePrice(line, 90.0)
        self.assertEqual(line.discount, 0.0)

    def test_reset_to_engine_price(self):
        rule = self._rule()
        order = self._order([(self.product, 1.0), (self.other_product, 2.0)])
        order.order_line.create(
            {"order_id": order.id, "display_type": "line_note", "name": "QP Note"}
        )
        first, second = order.order_line.filtered("product_id")
        first.write({"price_unit": 120.0, "discount": 10.0})
        second.price_unit = 50.0
        rule.adjustment_value = -20.0  # rules changed since the lines were priced
        order.with_user(self.sales_manager).action_reset_to_engine_price()
        for line in first | second:
            self.assertAtEnginePrice(line, 80.0)
            self.assertEqual(line.discount, 0.0)
            self.assertAlmostEqual(line.technical_price_unit, 80.0)
        message = order.message_ids[:1]
        self.assertIn("Prices reset to the engine price", message.body)
        self.assertIn("QP Paper Ream", message.body)
        # The lines are at the engine price again: they follow the engine.
        first.product_uom_qty = 3.0
        rule.min_quantity = 3.0
        order.payment_term_id = self.term_60
        self.assertAtEnginePrice(first, 80.0)
        self.assertAtEnginePrice(second, 100.0)

    def test_reset_only_on_quotations(self):
        order = self._order()
        order.action_confirm()
        with self.assertRaisesRegex(UserError, "Only quotations"):
            order.action_reset_to_engine_price()

    def test_update_prices_button_uses_engine(self):
        self._rule()
        order = self._order([(self.product, 1.0)])
        order.order_line.write({"price_unit": 150.0, "discount": 3.0})
        order.action_update_prices()
        self.assertAtEnginePrice(order.order_line, 90.0)
        self.assertEqual(order.order_line.discount, 0.0)

    def test_confirmed_order_keeps_its_prices(self):
        """Confirmation moves the order date past the campaign's end: the order
        keeps the prices of its quotation."""
        self._rule(date_end="2025-03-31")
        order = self._order()
        self.assertAtEnginePrice(order.order_line, 90.0)
        with freeze_time("2025-04-10 09:00:00"):
            order.action_confirm()
            self.assertEqual(order.date_order.month, 4)
            self.assertAtEnginePrice(order.order_line, 90.0)
            self._rule(payment_term_id=self.term_60.id, adjustment_value=-50.0)
            with Form(order.with_user(self.sales_manager)) as form:
                form.payment_term_id = self.term_60
                with form.order_line.edit(0) as line:
                    self.assertAlmostEqual(line.price_unit, 90.0)
                    self.assertAlmostEqual(line.engine_price_unit, 90.0)
            self.assertEqual(order.payment_term_id, self.term_60)
            self.assertAtEnginePrice(order.order_line, 90.0)
            # A line added to the confirmed order is priced at today's rules.
            added = order.order_line.create(
                {"order_id": order.id, "product_id": self.product.id}
            )
            self.assertAtEnginePrice(added, 50.0)

    def test_confirmation_computes_no_price_again(self):
        """The confirmation moves the order date, which the engine follows on
        quotations: on the confirmed order, neither the engine price nor the
        amounts and taxes that follow it are computed again."""
        self._rule(date_end="2025-03-31")
        order = self._order([(self.product, 1.0), (self.other_product, 2.0)])
        order.order_line.create(
            {"order_id": order.id, "display_type": "line_note", "name": "QP Note"}
        )
        total = order.amount_total
        self.env.flush_all()
        Line = self.registry["sale.order.line"]
        computed = []

        def recording(name):
            method = getattr(Line, name)

            def compute(lines):
                computed.append((name, lines.ids))
                return method(lines)

            return patch.object(Line, name, compute)

        with (
            freeze_time("2025-04-10 09:00:00"),
            recording("_compute_engine_price"),
            recording("_compute_amount"),
        ):
            order.action_confirm()
            self.env.flush_all()
        self.assertEqual(order.date_order.month, 4)
        self.assertEqual(computed, [])
        self.assertAtEnginePrice(order.order_line.filtered("product_id")[0], 90.0)
        self.assertEqual(order.amount_total, total)

    # ------------------------------------------------------------------
    # Lines the engine leaves alone
    # ------------------------------------------------------------------

    def test_lines_priced_by_odoo_are_left_alone(self):
        self._rule(adjustment_value=-50.0)
        order = self._order()
        product_line = order.order_line
        section = order.order_line.create(
            {"order_id": order.id, "display_type": "line_section", "name": "QP Section"}
        )
        downpayment = order.order_line.create(
            {
                "order_id": order.id,
                "product_id": self.other_product.id,
                "is_downpayment": True,
                "price_unit": 30.0,
            }
        )
        for line in section | downpayment:
            self.assertFalse(line._is_engine_priced())
            self.assertEqual(line.engine_price_unit, 0.0)
            self.assertFalse(line.engine_trace)
        self.assertAlmostEqual(downpayment.price_unit, 30.0)
        order.action_reset_to_engine_price()
        self.assertAlmostEqual(downpayment.price_unit, 30.0)
        self.assertAtEnginePrice(product_line, 50.0)

    def test_discount_wizard(self):
        self._rule()
        order = self._order([(self.product, 2.0)])
        Wizard = self.env["sale.order.discount"].with_context(active_id=order.id)
        Wizard.create(
            {"discount_type": "sol_discount", "discount_percentage": 0.05}
        ).action_apply_discount()
        product_line = order.order_line
        self.assertAlmostEqual(product_line.discount, 5.0)
        self.assertAlmostEqual(product_line.price_unit, 90.0)
        Wizard.create(
            {"discount_type": "so_discount", "discount_percentage": 0.1}
        ).action_apply_discount()
        discount_line = order.order_line - product_line
        self.assertTrue(discount_line._is_global_discount())
        self.assertFalse(discount_line._is_engine_priced())
        self.assertEqual(discount_line.engine_price_unit, 0.0)
        self.assertAlmostEqual(discount_line.price_unit, -17.1)  # 10% of 2 x 85.50
        order.action_reset_to_engine_price()
        self.assertAlmostEqual(discount_line.price_unit, -17.1)
        self.assertAlmostEqual(product_line.discount, 0.0)

    def test_discount_product_of_the_company(self):
        """A line of the company's discount product is Odoo's discount line,
        not engine-priced; setting that product recomputes its lines, their
        deviation and their orders' figures at once."""
        order = self._order([(self.product, 1.0), (self.other_product, 1.0)])
        line, other_line = order.order_line
        self.assertTrue(line.is_engine_priced and other_line.is_engine_priced)
        line.price_unit = line.engine_price_unit * 0.8  # as superuser: recorded
        self.assertAlmostEqual(line.deviation_percent, -20.0)
        self.assertAlmostEqual(order.max_deviation_percent, 20.0)
        self.company.sale_discount_product_id = self.product
        self.assertFalse(line.is_engine_priced)
        self.assertTrue(other_line.is_engine_priced)
        self.assertAlmostEqual(line.deviation_percent, 0.0)
        self.assertAlmostEqual(order.max_deviation_percent, 0.0)
        self.company.sale_discount_product_id = self.other_product
        self.assertTrue(line.is_engine_priced)
        self.assertFalse(other_line.is_engine_priced)
        self.assertAlmostEqual(line.deviation_percent, -20.0)
        self.assertAlmostEqual(order.max_deviation_percent, 20.0)

    def test_combo_lines_left_alone(self):
        self._rule(adjustment_value=-50.0)
        combo = self.env["product.combo"].create(
            {
                "name": "QP Combo Choice",
                "combo_item_ids": [
                    Command.create({"product_id": self.other_product.id})
                ],
            }
        )
        combo_product = self.env["product.product"].create(
            {
                "name": "QP Combo",
                "type": "combo",
                "list_price": 100.0,
                "combo_ids": [Command.link(combo.id)],
                "taxes_id": False,
            }
        )
        order = self._order([(combo_product, 1.0)])
        combo_line = order.order_line
        item_line = order.order_line.create(
            {
                "order_id": order.id,
                "product_id": self.other_product.id,
                "combo_item_id": combo.combo_item_ids.id,
                "linked_line_id": combo_line.id,
            }
        )
        for line in combo_line | item_line:
            self.assertFalse(line._is_engine_priced())
            self.assertEqual(line.engine_price_unit, 0.0)
        self.assertAlmostEqual(item_line.price_unit, 100.0)  # Odoo's combo share

    # ------------------------------------------------------------------
    # Cost
    # ------------------------------------------------------------------

    def _quote_lines(self, line_count, advance_rule):
        """The lines of a quote of ``line_count`` lines whose pricelist lookups,
        Odoo's own cost, are done; then a rule changes, and the rules are no
        longer in memory."""
        products = self.product | self.other_product
        order = self._order(
            [(products[index % 2], 1.0 + index) for index in range(line_count)],
            partner_id=self.vip_customer.id,
            payment_term_id=self.term_advance.id,
        )
        self.env.flush_all()
        order.order_line.mapped("pricelist_item_id")
        advance_rule.adjustment_value -= 1.0
        self.env.flush_all()
        self.env["quote.pricing.rule"].invalidate_model()
        return order.order_line

    def test_query_count_does_not_grow_with_lines(self):
        for index in range(20):
            self._rule(
                name=f"QP Rule {index}",
                sequence=index,
                adjustment_value=-1.0,
                min_quantity=index,
                partner_category_ids=[Command.set(self.tag_vip.ids)],
                categ_id=(self.categ_parent if index % 2 else self.categ_other).id,
            )
        advance = self._rule(name="QP Advance", payment_term_id=self.term_advance.id)
        lines_5 = self._quote_lines(5, advance)
        queries_before = self.cr.sql_log_count
        lines_5._recompute_engine_price()
        self.env.flush_all()
        queries_5 = self.cr.sql_log_count - queries_before
        self.assertLessEqual(queries_5, 12)
        lines_50 = self._quote_lines(50, advance)
        with self.assertQueryCount(queries_5):
            lines_50._recompute_engine_price()
        # The lines followed the changed rule, the engine applied more rules to
        # the larger quantities.
        for line in lines_50:
            self.assertAtEnginePrice(line, line.engine_price_unit)
            self.assertIn("QP Advance", line.engine_trace)
        self.assertLess(lines_5[-1].engine_price_unit, 90.0)
        self.assertLess(lines_50[-1].engine_price_unit, lines_5[-1].engine_price_unit)


@tagged("post_install", "-at_install")
class TestPricingRuleValidation(PricingEngineCommon):
    def test_refused_configurations(self):
        other_company = self.env["res.company"].create({"name": "QP Other Company"})
        self.sales_manager.company_ids |= other_company
        other_pricelist = self.env["product.pricelist"].create(
            {"name": "QP Other Pricelist", "company_id": other_company.id}
        )
        Rule = self.env["quote.pricing.rule"].with_user(self.sales_manager)
        for values, message in (
            ({"adjustment_value": -100.01}, "more than 100%"),
            (
                {"adjustment_type": "fixed_price", "adjustment_value": -1.0},
                "negative unit price",
            ),
            ({"adjustment_value": 0.0}, "does not change the price"),
            (
                {"adjustment_type": "fixed_amount", "adjustment_value": 0.0},
                "does not change the price",
            ),
            (
                {"date_start": "2025-03-10", "date_end": "2025-03-09"},
                "before it starts",
            ),
            ({"min_quantity": -1.0}, "negative minimum quantity"),
            ({"pricelist_id": other_pricelist.id}, "belongs to QP Other Company"),
            (
                {
                    "product_id": self.other_product.id,
                    "product_tmpl_id": self.product.product_tmpl_id.id,
                },
                "can never apply",
            ),
        ):
            with self.subTest(values=values):
                with self.assertRaisesRegex(ValidationError, message):
                    Rule.create({"name": "Bad", "adjustment_value": -1.0, **values})
        rule = Rule.create({"name": "Good", "adjustment_value": -100.0})
        with self.assertRaisesRegex(ValidationError, "does not change the price"):
            rule.write({"adjustment_value": 0.0})
        Rule.create(
            {
                "name": "Same day",
                "adjustment_value": -1.0,
                "date_start": "2025-03-10",
                "date_end": "2025-03-10",
                "min_quantity": 0.0,
            }
        )

    def test_summary_in_plain_words(self):
        rule = self._rule(
            adjustment_value=-5.0,
            categ_id=self.categ_parent.id,
            partner_category_ids=[Command.set(self.tag_vip.ids)],
            min_quantity=10.0,
            stop_processing=True,
        )
        self.assertIn("Lowers the price by 5", rule.summary)
        self.assertIn("QP Furniture", rule.summary)
        self.assertIn("QP VIP", rule.summary)
        self.assertIn("10", rule.summary)
        self.assertIn("No later rule", rule.summary)
        rule.write(
            {
                "adjustment_type": "fixed_price",
                "adjustment_value": 80.0,
                "categ_id": False,
                "partner_category_ids": [Command.clear()],
                "min_quantity": 0.0,
                "stop_processing": False,
            }
        )
        self.assertIn("Sets the unit price to", rule.summary)
        self.assertIn("every quote line", rule.summary)

    def test_rules_menu(self):
        menu = self.env.ref("quote_process.menu_quote_pricing_rule")
        self.assertEqual(
            menu.parent_id, self.env.ref("quote_process.menu_quote_process_config")
        )
        visible = (
            self.env["ir.ui.menu"].with_user(self.sales_manager)._visible_menu_ids()
        )
        self.assertIn(menu.id, visible)
        self.assertEqual(menu.action.res_model, "quote.pricing.rule")


@tagged("post_install", "-at_install")
class TestPricingEngineUi(HttpCase):
    def test_engine_price_explained_on_quote(self):
        salesman = new_test_user(
            self.env,
            login="qp_tour_salesman",
            groups="sales_team.group_sale_salesman",
        )
        self.env["quote.pricing.rule"].search([]).active = False
        self.env["quote.pricing.rule"].create(
            {"name": "QP Tour Rule", "adjustment_value": -10.0}
        )
        product = self.env["product.product"].create(
            {"name": "QP Tour Widget", "list_price": 100.0, "taxes_id": False}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.env["res.partner"].create({"name": "QP Tour"}).id,
                "user_id": salesman.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        self.assertAlmostEqual(order.order_line.engine_price_unit, 90.0)
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "quote_process_engine_price_tour",
            login=salesman.login,
        )
