from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Command


class SaleOrder(models.Model):
    _inherit = "sale.order"

    @api.model
    def _quote_demo_versions(self):
        """A negotiation in three rounds: a quotation sent three times, each
        version kept. Called once by demo/quote_version_demo.xml; does nothing
        without Odoo's demo users."""
        salesman = self.env.ref("base.user_demo", raise_if_not_found=False)
        partner = self.env.ref(
            "quote_process.demo_partner_jade", raise_if_not_found=False
        )
        if not (salesman and partner):
            return False
        desk = self.env.ref("product.product_product_8")
        chair = self.env.ref("product.product_delivery_01")
        now = fields.Datetime.now()
        order = (
            self.with_user(salesman)
            .with_context(mail_create_nosubscribe=True)
            .create(
                {
                    "partner_id": partner.id,
                    "user_id": salesman.id,
                    "date_order": now - timedelta(days=9),
                    "payment_term_id": self.env.ref(
                        "account.account_payment_term_immediate"
                    ).id,
                    "order_line": [
                        Command.create(
                            {"display_type": "line_section", "name": "Lobby"}
                        ),
                        Command.create({"product_id": desk.id, "product_uom_qty": 3}),
                        Command.create({"product_id": chair.id, "product_uom_qty": 6}),
                    ],
                }
            )
        )
        # v1: the first offer, nine days ago
        with order._quote_version_deferred():
            order.with_user(salesman).write({"state": "sent"})
        order.with_user(salesman)._quote_version_record(
            "mark_sent", sent_date=now - timedelta(days=9)
        )
        order.sudo().write(
            {
                "quote_sent_date": now - timedelta(days=9),
                "last_followup_date": now - timedelta(days=2),
            }
        )
        # v2: more chairs, delivery noted
        order.with_user(salesman).write(
            {
                "order_line": [
                    Command.update(
                        order.order_line.filtered(
                            lambda line: line.product_id == chair
                        ).id,
                        {"product_uom_qty": 8},
                    ),
                    Command.create(
                        {
                            "display_type": "line_note",
                            "name": "Delivery and assembly included.",
                        }
                    ),
                ],
            }
        )
        order.with_user(salesman)._quote_version_record(
            "mark_sent", sent_date=now - timedelta(days=5)
        )
        # v3: paid in 30 days, and the desks at a competitor's price
        order.with_user(salesman).write(
            {"payment_term_id": self.env.ref("account.account_payment_term_30days").id}
        )
        desk_line = order.order_line.filtered(lambda line: line.product_id == desk)
        price = order.currency_id.round(desk_line.engine_price_unit * 0.964)
        desk_line.with_user(salesman).write(
            {
                "price_unit": price,
                "technical_price_unit": price,
                "deviation_reason_id": self.env.ref(
                    "quote_process.deviation_reason_competitor"
                ).id,
                "deviation_note": "Their current supplier quoted the same desk "
                "3.6% lower.",
            }
        )
        order.with_user(salesman)._quote_version_record(
            "mark_sent", sent_date=now - timedelta(days=2)
        )
        order.with_user(salesman).write({"customer_response": "negotiating"})
        return True
