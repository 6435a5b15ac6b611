from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestQuoteProcessStoryUi(HttpCase):
    """The salesperson's and the manager's day, clicked through in a browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env,
            login="qp_story_salesman",
            name="QP Story Salesperson",
            email="story.salesman@example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.manager = new_test_user(
            cls.env,
            login="qp_story_manager",
            name="QP Story Manager",
            email="story.manager@example.com",
            groups="sales_team.group_sale_manager",
        )
        cls.team = cls.env["crm.team"].create(
            {"name": "QP Story Team", "user_id": cls.manager.id}
        )
        cls.salesman.sale_team_id = cls.team
        cls.env["quote.pricing.rule"].search([]).active = False
        cls.env["quote.pricing.rule"].create(
            {"name": "QP Story Rule", "adjustment_value": -10.0}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "QP Story Chair", "list_price": 100.0, "taxes_id": False}
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "QP Story Customer",
                "is_company": True,
                "email": "buyer@story.example.com",
            }
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "QP Story Opportunity",
                "type": "opportunity",
                "partner_id": cls.customer.id,
                "user_id": cls.salesman.id,
                "team_id": cls.team.id,
            }
        )

    def _story_order(self):
        return self.env["sale.order"].search(
            [("opportunity_id", "=", self.lead.id)], order="id desc", limit=1
        )

    def test_quote_from_opportunity_to_analysis(self):
        # 1. The salesperson quotes from the opportunity below the engine price.
        self.start_tour(
            f"/odoo/action-crm.crm_lead_action_pipeline/{self.lead.id}",
            "quote_process_salesperson_quote_tour",
            login=self.salesman.login,
        )
        order = self._story_order()
        self.assertTrue(order, "the quotation was created from the opportunity")
        line = order.order_line
        self.assertEqual(line.product_id, self.product)
        self.assertAlmostEqual(line.engine_price_unit, 90.0)
        self.assertAlmostEqual(line.price_unit, 72.0)
        self.assertEqual(
            line.deviation_reason_id,
            self.env.ref("quote_process.deviation_reason_competitor"),
        )
        self.assertEqual(line.deviation_note, "Matches the offer of a competitor")
        self.assertEqual(order.approval_state, "pending")
        activity = order.activity_ids.filtered(
            lambda a: (
                a.activity_type_id
                == self.env.ref("quote_process.mail_activity_quote_approval")
            )
        )
        self.assertEqual(activity.user_id, self.manager)

        # 2. The manager approves it from the Quotes to Approve menu.
        self.start_tour(
            "/odoo/action-quote_process.action_quotes_to_approve",
            "quote_process_manager_approval_tour",
            login=self.manager.login,
        )
        self.assertEqual(order.approval_state, "approved")
        self.assertEqual(order.approved_by_id, self.manager)
        self.assertFalse(
            order.activity_ids.filtered(
                lambda a: (
                    a.activity_type_id
                    == self.env.ref("quote_process.mail_activity_quote_approval")
                )
            ),
            "approving closes the approval activity",
        )

        # 3. The salesperson sends it by email.
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "quote_process_send_quote_tour",
            login=self.salesman.login,
        )
        self.assertEqual(order.state, "sent")
        self.assertTrue(order.quote_sent_date)
        self.assertEqual(order.customer_response, "pending")

        # 4. The customer buys elsewhere: the salesperson marks it lost.
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "quote_process_mark_lost_tour",
            login=self.salesman.login,
        )
        self.assertEqual(order.state, "cancel")
        self.assertEqual(
            order.lost_reason_id,
            self.env.ref("quote_process.lost_reason_price_higher"),
        )
        self.assertEqual(order.lost_note, "The competitor offered 15% less")
        self.assertTrue(order.lost_date)

        # 5. The manager sees it in the quote analysis.
        self.start_tour(
            "/odoo/sales",
            "quote_process_analysis_tour",
            login=self.manager.login,
        )
