"""Malformed values sent over RPC to the addon's models and fields get a
ValidationError saying what to enter, and leave nothing half-saved."""

from markupsafe import Markup

from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tests import tagged

from .common import QuoteProcessCommon

NAN = float("nan")
INF = float("inf")


@tagged("post_install", "-at_install")
class TestBadInput(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule_vals = {
            "name": "Bad Input Rule",
            "adjustment_type": "percent",
            "adjustment_value": -5,
        }

    def assertRefused(self, func, *args, pattern="Enter"):
        with self.assertRaisesRegex(ValidationError, pattern):
            func(*args)

    def test_pricing_rule(self):
        Rule = self.env["quote.pricing.rule"].with_user(self.sales_manager)
        count = Rule.search_count([])
        bad_values = [
            {"adjustment_value": "five"},
            {"adjustment_value": NAN},
            {"adjustment_value": INF},
            {"adjustment_value": 1e300},
            {"adjustment_value": -150},  # more than 100% down
            {"adjustment_type": "fixed_price", "adjustment_value": -1},
            {"adjustment_type": "bogus"},
            {"rule_type": "discount"},
            {"sequence": 10**12},
            {"sequence": "first"},
            {"min_quantity": -5},
            {"min_quantity": NAN},
            {"product_id": "widget"},
            {"product_id": 2**31 - 1},
            {"date_start": "tomorrow"},
            {"date_start": "2026-02-01", "date_end": "2026-01-01"},
            {"name": ["a", "list"]},
        ]
        for vals in bad_values:
            with self.subTest(vals=vals):
                with self.assertRaises(ValidationError):
                    Rule.create({**self.rule_vals, **vals})
                # a batch with one bad record creates none
                with self.assertRaises(ValidationError):
                    Rule.create([self.rule_vals, {**self.rule_vals, **vals}])
        self.assertEqual(Rule.search_count([]), count)
        rule = Rule.create(self.rule_vals)
        for vals in bad_values:
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                rule.write(vals)
        self.assertEqual(rule.adjustment_value, -5)
        self.assertEqual(rule.adjustment_type, "percent")

    def test_messages_are_clear(self):
        Rule = self.env["quote.pricing.rule"].with_user(self.sales_manager)
        self.assertRefused(
            Rule.create,
            {**self.rule_vals, "rule_type": "bogus"},
            pattern="Type cannot be 'bogus'. Enter one of: base, payment",
        )
        self.assertRefused(
            Rule.create,
            {**self.rule_vals, "sequence": 10**12},
            pattern="Enter a whole number between",
        )
        self.assertRefused(
            Rule.create,
            {**self.rule_vals, "product_id": 2**31 - 1},
            pattern="id of an existing record of product.product",
        )

    def test_authority_and_reason(self):
        Authority = self.env["quote.discount.authority"].with_user(self.sales_manager)
        group = self.env.ref("base.group_user")
        for value in (NAN, INF, -1, 101, "ten", 1e300):
            with self.subTest(value=value), self.assertRaises(ValidationError):
                Authority.create({"group_id": group.id, "max_deviation_percent": value})
        with self.assertRaises(ValidationError):
            Authority.create({"group_id": "sales", "max_deviation_percent": 5})
        self.assertFalse(Authority.search([("group_id", "=", group.id)]))
        Reason = self.env["quote.deviation.reason"].with_user(self.sales_manager)
        for vals in ({"name": 42}, {"name": "Ok", "sequence": 2**40}):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                Reason.create(vals)

    def test_company_settings(self):
        company = self.company.with_user(self.admin_user)
        for vals in (
            {"quote_followup_days": -1},
            {"quote_followup_days": 10**12},
            {"quote_followup_days": "ten"},
            {"quote_deviation_tolerance": NAN},
            {"quote_deviation_tolerance": 101},
            {"quote_conflict_policy": "ignore"},
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                company.write(vals)
        self.assertEqual(self.company.quote_followup_days, 10)
        self.assertEqual(self.company.quote_deviation_tolerance, 0.5)

    def test_quote_lines(self):
        Order = self.env["sale.order"].with_user(self.salesman)
        count = Order.search_count([])
        good = {"product_id": self.product.id}
        for vals in (
            {"deviation_reason_id": "competitor"},
            {"deviation_reason_id": 2**31 - 1},
            {"deviation_note": {"text": "x"}},
            {"price_unit": 90.0},  # beyond the tolerance without a reason
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                Order.create(
                    {
                        "partner_id": self.customer.id,
                        "order_line": [
                            Command.create(good),
                            Command.create({**good, **vals}),
                        ],
                    }
                )
        self.assertEqual(Order.search_count([]), count, "nothing half-saved")

    def test_quote_fields(self):
        order = self.create_quote(self.salesman)
        for vals in (
            {"customer_response": "maybe"},
            {"response_deadline": "next week"},
            {"lost_reason_id": "price"},
            {"lost_note": 12},
            # a valid field with a bad one: the valid one is not saved either
            {"note": "<p>changed</p>", "customer_response": "maybe"},
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                order.write(vals)
        self.assertFalse(order.customer_response)
        self.assertNotIn("changed", str(order.note or ""))

    def test_negative_and_huge_quantities(self):
        """Odoo allows negative quantities (returns, credits): the engine
        prices them like any line, without error."""
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": -3}
                        ),
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 1e9}
                        ),
                    ],
                }
            )
        )
        self.assertEqual(order.order_line.mapped("engine_price_unit"), [100.0, 100.0])
        self.assertEqual(order.order_line.mapped("deviation_percent"), [0.0, 0.0])
        self.assertEqual(order.approval_state, "not_required")

    def test_html_in_notes_is_escaped(self):
        script = "<script>alert('x')</script><b>bold</b>"
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "price_unit": 97.0,
                                "deviation_reason_id": self.deviation_reason.id,
                                "deviation_note": script,
                            }
                        )
                    ],
                }
            )
        )
        self.assertEqual(order.order_line.deviation_note, script)  # kept as text
        order.action_quotation_sent()
        lost_reason = self.env["crm.lost.reason"].search([], limit=1)
        self.mark_lost(order, self.salesman, lost_reason, script)
        bodies = Markup("").join(order.message_ids.mapped("body"))
        self.assertNotIn("<script>", bodies)
        self.assertNotIn("<b>bold</b>", bodies)
        self.assertIn("&lt;script&gt;", bodies)
        # HTML fields are sanitized
        response = (
            self.env["quote.response.wizard"]
            .with_user(self.salesman)
            .create({"order_ids": [Command.set(order.ids)], "note": script})
        )
        self.assertNotIn("<script>", str(response.note))
