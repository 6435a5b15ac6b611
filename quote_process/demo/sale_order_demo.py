from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Command


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------

    @api.model
    def _quote_demo_story(self):
        """Create the demo quotations, each step done by the user who would do
        it in real life (so every rule of the process applies). Called once by
        demo/quote_process_demo.xml; does nothing without Odoo's demo users."""
        salesman = self.env.ref("base.user_demo", raise_if_not_found=False)
        manager = self.env.ref("base.user_admin", raise_if_not_found=False)
        if not (salesman and manager) or not self.env.ref(
            "quote_process.demo_partner_lotus", raise_if_not_found=False
        ):
            return False

        def ref(xmlid):
            return self.env.ref(xmlid)

        today = fields.Date.context_today(self)
        now = fields.Datetime.now()

        def quote(partner, lines, user=salesman, days_ago=0, lead=None, **vals):
            order = (
                self.with_user(user)
                .with_context(mail_create_nosubscribe=True)
                .create(
                    {
                        "partner_id": ref(partner).id,
                        "user_id": user.id,
                        "opportunity_id": ref(lead).id if lead else False,
                        "date_order": now - timedelta(days=days_ago),
                        "order_line": [
                            Command.create(
                                {"product_id": ref(product).id, "product_uom_qty": qty}
                            )
                            for product, qty in lines
                        ],
                        **vals,
                    }
                )
            )
            return order

        def deviate(order, percent, reason, note):
            line = order.order_line[:1]
            price = line.engine_price_unit * (1 - percent / 100.0)
            price = order.currency_id.round(price)
            line.with_user(order.user_id).write(
                {
                    "price_unit": price,
                    "technical_price_unit": price,
                    "deviation_reason_id": ref(reason).id,
                    "deviation_note": note,
                }
            )

        def approve(order):
            order.with_user(order.user_id).action_request_approval()
            order.with_user(manager).action_approve()

        def send(order, days_ago=0, response=None):
            order.with_user(order.user_id).action_quotation_sent()
            if days_ago:
                sent = now - timedelta(days=days_ago)
                order.sudo().write(
                    {
                        "quote_sent_date": sent,
                        "last_followup_date": sent,
                        "response_deadline": (today - timedelta(days=days_ago))
                        + timedelta(days=order.company_id.quote_response_days),
                    }
                )
                # the version the customer received is of that day too (demo
                # history only: nobody changes a version)
                self.env.cr.execute(
                    "UPDATE quote_version SET sent_date = %s WHERE order_id = %s",
                    [sent, order.id],
                )
                order.version_ids.invalidate_recordset(["sent_date"])
            if response:
                order.with_user(order.user_id).write({"customer_response": response})

        def lose(order, reason, note):
            action = order.with_user(order.user_id).action_mark_lost()
            self.env["quote.lost.wizard"].with_user(order.user_id).with_context(
                **action["context"]
            ).create(
                {"lost_reason_id": ref(reason).id, "lost_note": note}
            ).action_confirm()

        chair = "product.product_delivery_01"
        desk = "product.product_product_8"
        cabinet = "product.product_product_6"
        screens = "product.product_product_25"
        table = "product.consu_delivery_02"
        lamp = "product.product_delivery_02"

        # Deviating, within the salesperson's own authority: no approval.
        order = quote("quote_process.demo_partner_lotus", [(chair, 12)], days_ago=1)
        deviate(
            order,
            3,
            "quote_process.deviation_reason_volume",
            "Twelve chairs now, twenty more expected in spring.",
        )
        # Beyond the authority: awaiting the manager's approval.
        order = quote(
            "quote_process.demo_partner_harbour",
            [(desk, 4), (lamp, 4)],
            days_ago=2,
            lead="quote_process.demo_lead_harbour_offices",
        )
        deviate(
            order,
            15,
            "quote_process.deviation_reason_competitor",
            "Their current supplier offers the same desk 15% cheaper.",
        )
        order.with_user(salesman).action_request_approval()
        # Rejected by the manager.
        order = quote("quote_process.demo_partner_summit", [(table, 2)], days_ago=3)
        deviate(
            order,
            25,
            "quote_process.deviation_reason_strategic",
            "First order of a large school group.",
        )
        order.with_user(salesman).action_request_approval()
        order.with_user(manager).action_reject(
            reason=self.env._("25% is too much for a first order: offer 10%.")
        )
        # Approved, not sent yet.
        order = quote("quote_process.demo_partner_summit", [(cabinet, 6)], days_ago=2)
        deviate(
            order,
            12,
            "quote_process.deviation_reason_clearance",
            "Last cabinets of the old colour.",
        )
        approve(order)
        # Sent, awaiting the customer's response.
        send(quote("quote_process.demo_partner_lotus", [(screens, 10)], days_ago=3), 3)
        order = quote("quote_process.demo_partner_jade", [(desk, 2)], days_ago=4)
        deviate(
            order,
            8,
            "quote_process.deviation_reason_strategic",
            "Reference customer in the region.",
        )
        approve(order)
        send(order, 4)
        # Negotiating.
        send(
            quote("quote_process.demo_partner_harbour", [(chair, 30)], days_ago=6),
            6,
            response="negotiating",
        )
        # Overdue for follow-up: sent long ago, nobody called since.
        for partner, lines, days in (
            ("quote_process.demo_partner_jade", [(cabinet, 3)], 18),
            ("quote_process.demo_partner_maple", [(lamp, 20), (chair, 5)], 25),
        ):
            order = quote(partner, lines, days_ago=days)
            send(order, days)
            order.sudo().write({"reminder_count": 1, "last_reminder_date": now})
        # Won.
        for partner, lines, days in (
            ("quote_process.demo_partner_lotus", [(desk, 1), (chair, 6)], 20),
            ("quote_process.demo_partner_maple", [(table, 1)], 15),
            ("quote_process.demo_partner_jade", [(screens, 4)], 9),
        ):
            order = quote(partner, lines, days_ago=days)
            send(order, days)
            order.with_user(salesman).action_confirm()
        # Lost, for several reasons.
        for partner, lines, days, reason, note, lead in (
            (
                "quote_process.demo_partner_maple",
                [(desk, 3)],
                30,
                "quote_process.lost_reason_price_higher",
                "A competitor offered the same desks 12% cheaper.",
                "quote_process.demo_lead_maple_refit",
            ),
            (
                "quote_process.demo_partner_summit",
                [(chair, 40)],
                28,
                "quote_process.lost_reason_quote_later",
                "They had signed with another supplier the day before.",
                None,
            ),
            (
                "quote_process.demo_partner_harbour",
                [(table, 1)],
                21,
                "quote_process.lost_reason_no_decision",
                "The project was postponed without a new date.",
                None,
            ),
            (
                "quote_process.demo_partner_lotus",
                [(lamp, 50)],
                16,
                "quote_process.lost_reason_product_fit",
                "They needed dimmable lamps.",
                None,
            ),
            (
                "quote_process.demo_partner_jade",
                [(cabinet, 2)],
                12,
                "quote_process.lost_reason_price_higher",
                "Price matched by their usual supplier.",
                None,
            ),
        ):
            order = quote(partner, lines, days_ago=days, lead=lead)
            send(order, days)
            lose(order, reason, note)
        # A year of large desk quotes: the price guidance of the open desk
        # quotes rests on them (small discounts won, the list price lost).
        partners = [
            "quote_process.demo_partner_lotus",
            "quote_process.demo_partner_maple",
            "quote_process.demo_partner_jade",
            "quote_process.demo_partner_summit",
        ]
        for index, (percent, won) in enumerate(
            [
                (0, False),
                (0, False),
                (0, True),
                (0, False),
                (3, True),
                (3, True),
                (4, False),
                (3, True),
                (7, True),
                (8, True),
                (6, True),
                (0, True),
            ]
        ):
            days = 330 - 25 * index
            order = quote(partners[index % 4], [(desk, 2 + index % 3)], days_ago=days)
            if percent:
                deviate(
                    order,
                    percent,
                    "quote_process.deviation_reason_volume",
                    "Desks for a whole floor.",
                )
                if percent > 5:
                    approve(order)
            send(order, days)
            if won:
                order.with_user(salesman).action_confirm()
            else:
                lose(
                    order,
                    "quote_process.lost_reason_price_higher",
                    "Bought the desks elsewhere.",
                )
        self.env["quote.guidance.stat"]._refresh()
        return True
