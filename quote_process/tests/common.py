from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon


class QuoteProcessCommon(BaseCommon):
    """Users per role, a customer and products shared by the addon's tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.salesman = new_test_user(
            cls.env,
            login="qp_salesman",
            name="Sam Salesman",
            groups="sales_team.group_sale_salesman",
        )
        cls.salesman_all = new_test_user(
            cls.env,
            login="qp_salesman_all",
            name="Alex All-Documents",
            groups="sales_team.group_sale_salesman_all_leads",
        )
        cls.sales_manager = new_test_user(
            cls.env,
            login="qp_manager",
            name="Mia Manager",
            groups="sales_team.group_sale_manager",
        )
        cls.admin_user = new_test_user(
            cls.env,
            login="qp_admin",
            name="Ada Admin",
            groups="sales_team.group_sale_manager,base.group_system",
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Quote Process Customer", "is_company": True}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Quote Process Widget", "list_price": 100.0, "type": "consu"}
        )


class LostQuoteCommon(QuoteProcessCommon):
    """Lost reasons, product categories and a quick way to make quotations."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reason_price = cls.env.ref("quote_process.lost_reason_price_higher")
        cls.reason_speed = cls.env.ref("quote_process.lost_reason_quote_later")
        cls.reason_budget = cls.env.ref("quote_process.lost_reason_no_budget")
        cls.categ_machines = cls.env["product.category"].create({"name": "Machines"})
        cls.categ_services = cls.env["product.category"].create({"name": "Services"})
        cls.machine = cls.env["product.product"].create(
            {
                "name": "Lost Quote Machine",
                "list_price": 1.0,
                "type": "consu",
                "categ_id": cls.categ_machines.id,
                "taxes_id": [(6, 0, [])],
            }
        )
        cls.service = cls.env["product.product"].create(
            {
                "name": "Lost Quote Service",
                "list_price": 1.0,
                "type": "service",
                "categ_id": cls.categ_services.id,
                "taxes_id": [(6, 0, [])],
            }
        )

    @classmethod
    def _create_quote(cls, user, amount, partner=None, product=None, **vals):
        """A quotation of ``user`` worth ``amount`` untaxed, on one line at the
        engine price (the products cost 1.00 a unit)."""
        product = product or cls.machine
        return (
            cls.env["sale.order"]
            .with_user(user)
            .create(
                {
                    "partner_id": (partner or cls.customer).id,
                    "user_id": user.id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": product.id,
                                "product_uom_qty": amount,
                            },
                        )
                    ],
                    **vals,
                }
            )
        )

    @classmethod
    def _create_opportunity(cls, user, name="Lost Quote Deal"):
        return (
            cls.env["crm.lead"]
            .with_user(user)
            .create(
                {
                    "name": name,
                    "type": "opportunity",
                    "partner_id": cls.customer.id,
                    "user_id": user.id,
                }
            )
        )

    @classmethod
    def _mark_lost(cls, orders, user, reason, note=False):
        """Mark ``orders`` lost the way the web client does, as ``user``."""
        action = orders.with_user(user).action_mark_lost()
        wizard = (
            cls.env["quote.lost.wizard"]
            .with_user(user)
            .with_context(**action["context"])
            .create({"lost_reason_id": reason.id, "lost_note": note})
        )
        return wizard.action_confirm()
