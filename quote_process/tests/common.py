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
