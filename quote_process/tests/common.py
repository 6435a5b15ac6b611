from odoo.fields import Command
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon


def quote_values(partner, lines, user=None, **vals):
    """Values of a quotation for ``partner`` with ``lines`` (values of its
    lines). ``user``: its salesperson (an empty recordset for none; None
    leaves Odoo's default, the user who creates it)."""
    values = {
        "partner_id": partner.id,
        "order_line": [Command.create(line) for line in lines],
    }
    if user is not None:
        values["user_id"] = user.id
    values.update(vals)
    return values


class QuoteProcessCommon(BaseCommon):
    """Users per role, a customer, a product, a deviation reason, and the one
    way the addon's tests make quotations (``create_quote``)."""

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
        cls.deviation_reason = cls.env.ref("quote_process.deviation_reason_competitor")

    @classmethod
    def quote_line(
        cls, product=None, qty=None, price=None, discount=None, note=None, **vals
    ):
        """Values of a quotation line of ``product`` (the widget) and ``qty``
        (Odoo's default: 1). A ``price`` set by hand comes with the deviation
        reason and ``note`` when a note is given."""
        line = {"product_id": (product or cls.product).id}
        if qty is not None:
            line["product_uom_qty"] = qty
        if price is not None:
            line["price_unit"] = price
        if discount is not None:
            line["discount"] = discount
        if note:
            line["deviation_reason_id"] = cls.deviation_reason.id
            line["deviation_note"] = note
        line.update(vals)
        return line

    @classmethod
    def create_quote(cls, user=None, lines=None, partner=None, sudo=False, **vals):
        """A quotation for ``partner`` (the customer), by default one line of
        the widget (``lines``: values of ``quote_line``).

        ``user`` is its salesperson and creates it (None: the current user,
        Odoo's default salesperson; an empty recordset: no salesperson).
        ``sudo``: created by the system instead, then handed back to the
        current user. Other values are the quotation's own."""
        if lines is None:
            lines = [cls.quote_line()]
        values = quote_values(partner or cls.customer, lines, user=user, **vals)
        orders = cls.env["sale.order"]
        if sudo:
            return orders.sudo().create(values).sudo(False)
        if user:
            orders = orders.with_user(user)
        return orders.create(values)

    @classmethod
    def mark_lost(cls, orders, user, reason, note=False):
        """Mark ``orders`` lost the way the web client does, as ``user``."""
        action = orders.with_user(user).action_mark_lost()
        wizard = (
            cls.env["quote.lost.wizard"]
            .with_user(user)
            .with_context(**action["context"])
            .create({"lost_reason_id": reason.id, "lost_note": note})
        )
        return wizard.action_confirm()


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
        line = cls.quote_line(product or cls.machine, qty=amount)
        return cls.create_quote(user, [line], partner=partner, **vals)

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
