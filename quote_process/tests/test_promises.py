from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from .test_pricing_engine import PricingEngineCommon


class PromiseCommon(PricingEngineCommon):
    """An opportunity of the salesman for the customer, and a quick way to
    record promises on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["quote.promise"].search([]).sudo().state = "cancelled"
        cls.opportunity = (
            cls.env["crm.lead"]
            .with_user(cls.salesman)
            .create(
                {
                    "name": "QP Framework Deal",
                    "type": "opportunity",
                    "partner_id": cls.customer_contact.id,
                    "user_id": cls.salesman.id,
                }
            )
        )
        cls.cron = cls.env.ref("quote_process.ir_cron_expire_quote_promises")

    def _run_cron(self, at):
        with freeze_time(at), self.enter_registry_test_mode():
            result = self.cron.sudo().method_direct_trigger()
        self.assertIs(result, True, "the scheduled action must not fail")
        self.env.invalidate_all()

    def _promise(self, user=None, **values):
        values = {
            "name": "QP 5% promised",
            "lead_id": self.opportunity.id,
            "promise_type": "percent",
            "discount_percent": 5.0,
            "date_start": "2025-03-01",
            "date_end": False,
            **values,
        }
        return self.env["quote.promise"].with_user(user or self.salesman).create(values)


@tagged("post_install", "-at_install")
class TestPromises(PromiseCommon):
    def test_promise_made_to_commercial_entity_and_posted(self):
        promise = self._promise()
        self.assertEqual(promise.partner_id, self.customer)
        self.assertEqual(promise.user_id, self.salesman)
        self.assertEqual(promise.state, "active")
        self.assertIn(promise, self.opportunity.promise_ids)
        self.assertEqual(self.opportunity.promise_count, 1)
        message = self.opportunity.message_ids[0]
        self.assertIn("QP 5% promised", message.body)
        self.assertIn("5% off", message.body)

    def test_engine_applies_promise_after_rules(self):
        self._rule(adjustment_value=-10.0)
        self._promise()
        # Any quote of the customer's company, here of its contact.
        order = self._order(partner_id=self.customer_contact.id)
        line = order.order_line
        self.assertAtEnginePrice(line, 85.5)
        self.assertIn("Rule “QP Rule”", line.engine_trace)
        self.assertIn(
            "Promise “QP 5% promised” of opportunity “QP Framework Deal”",
            line.engine_trace,
        )
        self.assertLess(
            line.engine_trace.index("QP Rule"), line.engine_trace.index("Promise")
        )
        # Another customer does not get it.
        other = self._order(partner_id=self.other_customer.id)
        self.assertAtEnginePrice(other.order_line, 90.0)
        self.assertNotIn("Promise", other.order_line.engine_trace)

    def test_quote_from_opportunity_gets_promise(self):
        self._promise(partner_id=self.customer.id)
        # A quote from the opportunity, even for another invoiced company.
        order = self._order(
            partner_id=self.other_customer.id, opportunity_id=self.opportunity.id
        )
        self.assertAtEnginePrice(order.order_line, 95.0)

    def test_scope_quantity_and_best_promise(self):
        self._promise(
            name="QP Chairs fixed",
            promise_type="fixed_price",
            fixed_price=80.0,
            discount_percent=0.0,
            categ_id=self.categ_parent.id,
            min_quantity=10,
        )
        self._promise(name="QP Paper 3%", discount_percent=3.0, product_id=False)
        order = self._order(
            [(self.product, 9), (self.product, 10), (self.other_product, 1)]
        )
        few, many, paper = order.order_line
        self.assertAtEnginePrice(few, 97.0)
        self.assertAtEnginePrice(many, 80.0)
        self.assertIn("QP Chairs fixed", many.engine_trace)
        self.assertNotIn("QP Paper 3%", many.engine_trace)
        self.assertAtEnginePrice(paper, 97.0)

    def test_validity_dates_expiry_and_cancel(self):
        with freeze_time("2025-03-10"):
            promise = self._promise(date_end="2025-03-31")
        self.assertEqual(promise.state, "active")
        self.assertAtEnginePrice(self._order().order_line, 95.0)
        after = self._order(date_order="2025-04-01 12:00:00")
        self.assertAtEnginePrice(after.order_line, 100.0)
        before = self._order(date_order="2025-02-28 12:00:00")
        self.assertAtEnginePrice(before.order_line, 100.0)
        self._run_cron("2025-03-31 12:00:00")
        self.assertEqual(promise.state, "active")
        self._run_cron("2025-04-01 08:00:00")
        self.assertEqual(promise.state, "expired")
        self.assertAtEnginePrice(self._order().order_line, 100.0)
        # A promise recorded with an end in the past is expired at once.
        late = self._promise(name="QP Late", date_end="2025-03-31")
        self.assertEqual(late.state, "expired")
        active = self._promise(name="QP Cancelled", date_end=False)
        draft = self._order()
        self.assertAtEnginePrice(draft.order_line, 95.0)
        active.with_user(self.salesman).action_cancel()
        self.assertEqual(active.state, "cancelled")
        self.assertAtEnginePrice(draft.order_line, 100.0)
        self.assertIn("cancelled", self.opportunity.message_ids[0].body)
        with self.assertRaises(UserError):
            active.with_user(self.salesman).write({"state": "active"})

    def test_price_above_promise_is_a_deviation(self):
        self.env.company.quote_deviation_tolerance = 0.5
        self._promise(discount_percent=10.0)
        with self.assertRaises(ValidationError):
            self._order_with_price(100.0, user=self.salesman)
        order = self._order_with_price(
            100.0,
            deviation_reason_id=self.deviation_reason.id,
            deviation_note="List price",
        )
        self.assertAlmostEqual(order.order_line.deviation_percent, 11.11, places=2)
        self.assertTrue(order.order_line.deviation_needs_reason)

    def _order_with_price(self, price, user=None, **line_values):
        # Prices set by a person: the superuser's are recorded, never refused.
        return self.create_quote(
            lines=[self.quote_line(price=price, **line_values)],
            pricelist_id=self.pricelist.id,
            date_order="2025-03-15 12:00:00",
            user=user,
        )

    def test_payment_terms_promise(self):
        self._promise(
            name="QP Advance terms",
            promise_type="payment_terms",
            discount_percent=0.0,
            payment_term_id=self.term_advance.id,
            date_end=False,
        )
        with freeze_time("2025-03-15"):
            order = self.env["sale.order"].create({"partner_id": self.customer.id})
        self.assertEqual(order.payment_term_id, self.term_advance)
        other = self.env["sale.order"].create({"partner_id": self.other_customer.id})
        self.assertNotEqual(other.payment_term_id, self.term_advance)

    def test_refused_values(self):
        with self.assertRaises(ValidationError):
            self._promise(discount_percent=0.0)
        with self.assertRaises(ValidationError):
            self._promise(promise_type="payment_terms", discount_percent=0.0)
        with self.assertRaises(ValidationError):
            self._promise(date_start="2025-04-01", date_end="2025-03-01")

    def test_access_per_role(self):
        mine = self._promise()
        other_lead = (
            self.env["crm.lead"]
            .with_user(self.salesman_all)
            .create(
                {
                    "name": "QP Other Deal",
                    "type": "opportunity",
                    "partner_id": self.other_customer.id,
                    "user_id": self.salesman_all.id,
                }
            )
        )
        # A salesman records promises on their own opportunities only.
        with self.assertRaises(AccessError):
            self._promise(lead_id=other_lead.id)
        theirs = self._promise(user=self.salesman_all, lead_id=other_lead.id)
        Promise = self.env["quote.promise"]
        self.assertEqual(
            Promise.with_user(self.salesman).search(
                [("id", "in", (mine | theirs).ids)]
            ),
            mine,
        )
        with self.assertRaises(AccessError):
            theirs.with_user(self.salesman).action_cancel()
        self.assertEqual(
            Promise.with_user(self.salesman_all).search(
                [("id", "in", (mine | theirs).ids)]
            ),
            mine | theirs,
        )
        mine.with_user(self.salesman).write({"discount_percent": 6.0})
        with self.assertRaises(AccessError):
            mine.with_user(self.salesman).unlink()
        mine.with_user(self.sales_manager).unlink()
        self.assertFalse(mine.exists())

    def test_query_count_flat_with_promises(self):
        for index in range(10):
            self._promise(name=f"QP Promise {index}", min_quantity=index)
        order_5 = self._order([(self.product, qty) for qty in range(5)])
        order_50 = self._order([(self.product, qty % 12) for qty in range(50)])
        queries_before = self.cr.sql_log_count
        order_5.order_line._recompute_engine_price()
        self.env.flush_all()
        queries_5 = self.cr.sql_log_count - queries_before
        with self.assertQueryCount(queries_5):
            order_50.order_line._recompute_engine_price()
            self.env.flush_all()
        self.assertIn("QP Promise", order_50.order_line[-1].engine_trace)


@tagged("post_install", "-at_install")
class TestPriceLock(PromiseCommon):
    def test_price_change_after_confirmation(self):
        order = self._order()
        order.action_confirm()
        line = order.order_line.with_user(self.sales_manager)
        for values in (
            {"price_unit": 99.5},
            {"discount": 0.2},
            {"price_unit": 90.0, "deviation_reason_id": self.deviation_reason.id},
        ):
            with self.assertRaises(ValidationError):
                line.write(values)
        self.assertAlmostEqual(line.price_unit, 100.0)
        # Writing the same price is no change.
        line.write({"price_unit": 100.0})
        line.write(
            {
                "price_unit": 90.0,
                "discount": 2.0,
                "deviation_reason_id": self.deviation_reason.id,
                "deviation_note": "Matched the rival's offer",
            }
        )
        messages = order.message_ids.filtered(
            lambda message: "Price changed after confirmation" in message.body
        )
        self.assertEqual(len(messages), 1)
        body = messages.body
        self.assertIn("100.00", body)
        self.assertIn("90.00", body)
        self.assertIn("Matched the rival", body)
        # Quotations are not locked.
        quote = self._order()
        quote.order_line.write({"price_unit": 99.9})
        self.assertAlmostEqual(quote.order_line.price_unit, 99.9)


class OffersCommon(PromiseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.visible_rule = cls.env["quote.pricing.rule"].create(
            {
                "name": "QP Early payment",
                "adjustment_value": -2.0,
                "payment_term_id": cls.term_advance.id,
                "customer_visible": True,
                "customer_description": "2% off when you pay in advance",
                "date_end": "2025-12-31",
            }
        )
        cls.hidden_rule = cls.env["quote.pricing.rule"].create(
            {
                "name": "QP Internal margin",
                "adjustment_value": -1.0,
                "customer_description": "QP secret internal rule",
            }
        )
        cls.vip_rule = cls.env["quote.pricing.rule"].create(
            {
                "name": "QP VIP campaign",
                "adjustment_value": -3.0,
                "partner_category_ids": [Command.set(cls.tag_vip.ids)],
                "customer_visible": True,
                "customer_description": "QP VIP only campaign",
            }
        )
        cls.paper_rule = cls.env["quote.pricing.rule"].create(
            {
                "name": "QP Paper volume",
                "adjustment_value": -4.0,
                "categ_id": cls.categ_other.id,
                "min_quantity": 100,
                "customer_visible": True,
                "customer_description": "QP paper volume break",
            }
        )
        cls.promise = (
            cls.env["quote.promise"]
            .with_user(cls.salesman)
            .create(
                {
                    "name": "QP Framework discount",
                    "lead_id": cls.opportunity.id,
                    "promise_type": "percent",
                    "discount_percent": 7.0,
                    "date_start": "2025-03-01",
                    "date_end": "2035-06-30",
                }
            )
        )

    def assertOffers(self, html, order):
        self.assertIn("Offers and terms for you", html)
        self.assertIn("QP Framework discount", html)
        self.assertIn("7% off", html)
        self.assertIn("2% off when you pay in advance", html)
        self.assertIn("06/30/2035", html)
        self.assertIn("12/31/2025", html)
        for hidden in (
            "QP secret internal rule",
            "QP VIP only campaign",
            "QP paper volume break",
        ):
            self.assertNotIn(hidden, html)


@tagged("post_install", "-at_install")
class TestOffers(OffersCommon):
    def test_offers_list(self):
        order = self._order()
        # Only readers of the quote get its offers.
        with self.assertRaises(AccessError):
            order.with_user(self.salesman)._get_quote_offers()
        offers = order.with_user(self.sales_manager)._get_quote_offers()
        self.assertEqual(
            [offer["name"] for offer in offers],
            ["QP Framework discount", "QP Early payment"],
        )
        # Customer eligibility: tags, products of the quote, dates.
        vip_order = self._order(
            [(self.other_product, 1)], partner_id=self.vip_customer.id
        )
        self.assertEqual(
            {offer["name"] for offer in vip_order._get_quote_offers()},
            {"QP Early payment", "QP VIP campaign", "QP Paper volume"},
        )
        late = self._order(date_order="2035-07-05 12:00:00")
        self.assertEqual(late._get_quote_offers(), [])

    def test_offers_on_quote_document(self):
        order = self._order()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("sale.action_report_saleorder", order.ids)[0]
            .decode()
        )
        self.assertOffers(html, order)
        other = self._order(partner_id=self.other_customer.id, date_order="2026-02-01")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("sale.action_report_saleorder", other.ids)[0]
            .decode()
        )
        self.assertNotIn("Offers and terms for you", html)

    def test_offers_in_quotation_email(self):
        order = self._order()
        action = order.with_user(self.sales_manager).action_quotation_send()
        composer = (
            self.env["mail.compose.message"]
            .with_user(self.sales_manager)
            .with_context(**action["context"])
            .create({})
        )
        self.assertOffers(str(composer.body), order)
        composer._action_send_mail()
        self.assertOffers(str(order.message_ids[0].body), order)


@tagged("post_install", "-at_install")
class TestOffersPortal(HttpCase, OffersCommon):
    def test_offers_on_portal(self):
        order = self._order()
        order.action_quotation_sent()
        response = self.url_open(order.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertOffers(response.text, order)
