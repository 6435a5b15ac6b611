"""With no pricing rule and no promise, quote lines get exactly the unit price
and the discount Odoo computes, in every flow Odoo prices."""

from freezegun import freeze_time

from odoo import fields
from odoo.fields import Command
from odoo.tests import Form, tagged

from .common import QuoteProcessCommon


@tagged("post_install", "-at_install")
class TestOdooFlows(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["quote.pricing.rule"].search([]).active = False
        cls.env["quote.promise"].search([]).sudo().state = "cancelled"
        cls.env.ref("base.group_user").write(
            {
                "implied_ids": [
                    Command.link(cls.env.ref("sale.group_discount_per_so_line").id),
                    Command.link(cls.env.ref("product.group_product_pricelist").id),
                ]
            }
        )
        cls.currency = cls.company.currency_id
        cls.shown = cls._pricelist("QP Shown Discount", percent=10.0)
        cls.plain = cls.env["product.pricelist"].create(
            {"name": "QP Plain", "currency_id": cls.currency.id}
        )

    @classmethod
    def _pricelist(cls, name, percent, currency=None, **item):
        return cls.env["product.pricelist"].create(
            {
                "name": name,
                "currency_id": (currency or cls.currency).id,
                "item_ids": [
                    Command.create(
                        {
                            "compute_price": "percentage",
                            "percent_price": percent,
                            **item,
                        }
                    )
                ],
            }
        )

    def _order(self, pricelist, qty=1.0, user=None):
        return (
            self.env["sale.order"]
            .with_user(user or self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "pricelist_id": pricelist.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": qty}
                        )
                    ],
                }
            )
        )

    def assertOdooPrice(self, line, price_unit, discount):
        self.assertAlmostEqual(line.price_unit, price_unit)
        self.assertAlmostEqual(line.discount, discount)
        self.assertAlmostEqual(line.deviation_percent, 0.0)
        self.assertEqual(line.order_id.approval_state, "not_required")

    def test_pricelist_shows_discount(self):
        line = self._order(self.shown).order_line
        self.assertTrue(line.pricelist_item_id._show_discount())
        self.assertOdooPrice(line, 100.0, 10.0)
        self.assertAlmostEqual(line.engine_price_unit, 90.0)

    def test_pricelist_change_and_update_prices(self):
        order = self._order(self.plain)
        self.assertOdooPrice(order.order_line, 100.0, 0.0)
        order.pricelist_id = self.shown
        order.action_update_prices()
        self.assertOdooPrice(order.order_line, 100.0, 10.0)
        order.pricelist_id = self.plain
        order.action_update_prices()
        self.assertOdooPrice(order.order_line, 100.0, 0.0)

    def test_minimal_quantity_in_the_form(self):
        pricelist = self._pricelist("QP Min Qty", 20.0, min_quantity=5.0)
        order = self._order(pricelist)
        with Form(order.with_user(self.salesman)) as form:
            with form.order_line.edit(0) as line:
                line.product_uom_qty = 5.0
        self.assertOdooPrice(order.order_line, 100.0, 20.0)
        order.order_line.product_uom_qty = 2.0
        self.assertOdooPrice(order.order_line, 100.0, 0.0)

    def test_pricelist_based_on_another_in_another_currency(self):
        # At noon: near midnight the day of the rate created below (the user's
        # today) and the day the order's price converts at may differ, and the
        # price and its expectation then take different rates of the demo data.
        with freeze_time(f"{fields.Date.today()} 12:00:00"):
            other = self.env["res.currency"].search(
                [("id", "!=", self.currency.id), ("active", "in", (True, False))],
                limit=1,
            )
            other.active = True
            self.env["res.currency.rate"].create(
                {"currency_id": other.id, "rate": 2.0, "company_id": self.company.id}
            )
            foreign = self._pricelist("QP Foreign", 10.0, currency=other)
            based = self.env["product.pricelist"].create(
                {
                    "name": "QP Based",
                    "currency_id": other.id,
                    "item_ids": [
                        Command.create(
                            {
                                "compute_price": "formula",
                                "base": "pricelist",
                                "base_pricelist_id": foreign.id,
                                "price_discount": 50.0,
                            }
                        )
                    ],
                }
            )
            line = self._order(foreign).order_line
            expected = self.currency._convert(
                100.0, other, self.company, line.order_id.date_order
            )
            self.assertOdooPrice(line, expected, 10.0)
            line = self._order(based).order_line
            # a formula pricelist includes its discount in the price
            self.assertOdooPrice(line, expected * 0.9 * 0.5, 0.0)

    def test_quotation_template_optional_products(self):
        option = self.env["product.product"].create(
            {"name": "QP Option", "list_price": 40.0, "type": "consu"}
        )
        template = self.env["sale.order.template"].create(
            {
                "name": "QP Template",
                "sale_order_template_line_ids": [
                    Command.create({"product_id": self.product.id}),
                    Command.create(
                        {
                            "name": "Options",
                            "display_type": "line_section",
                            "is_optional": True,
                            "product_uom_qty": 0,
                        }
                    ),
                    Command.create({"product_id": option.id, "product_uom_qty": 0}),
                ],
            }
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "pricelist_id": self.plain.id,
                "user_id": self.salesman.id,
            }
        )
        order.write(
            {"pricelist_id": self.shown.id, "sale_order_template_id": template.id}
        )
        order._onchange_sale_order_template_id()
        main = order.order_line.filtered(lambda line: line.product_id == self.product)
        self.assertOdooPrice(main, 100.0, 10.0)
        optional = order.order_line.filtered(lambda line: line.product_id == option)
        self.assertTrue(optional._is_line_optional())
        self.assertOdooPrice(optional, 40.0, 10.0)
        # the customer adds the option on the portal: Odoo's own flow
        optional.sudo().product_uom_qty = 2.0
        self.assertOdooPrice(optional, 40.0, 10.0)
        order.pricelist_id = self.plain
        order.with_user(self.salesman).action_update_prices()
        self.assertOdooPrice(optional, 40.0, 0.0)

    def test_rule_keeps_the_discount_shown(self):
        """With a rule, the discount the pricelist shows stays on the line and
        the unit price is set so that the price after it is the engine price."""
        self.env["quote.pricing.rule"].create(
            {"name": "QP Minus 5", "adjustment_type": "percent", "adjustment_value": -5}
        )
        line = self._order(self.shown).order_line
        self.assertAlmostEqual(line.engine_price_unit, 85.5)
        self.assertAlmostEqual(line.discount, 10.0)
        self.assertAlmostEqual(line.price_unit, 95.0)
        self.assertAlmostEqual(line.deviation_percent, 0.0)
        line.order_id.with_user(self.sales_manager).action_reset_to_engine_price()
        self.assertAlmostEqual(line.discount, 10.0)
        self.assertAlmostEqual(line.price_unit, 95.0)
