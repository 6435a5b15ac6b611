from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """The demo data shows every state of the process."""

    def setUp(self):
        super().setUp()
        self.partner = self.env.ref(
            "quote_process.demo_partner_lotus", raise_if_not_found=False
        )
        if not self.partner:
            self.skipTest("installed without demo data")
        self.orders = self.env["sale.order"].search(
            [
                ("partner_id.email", "=like", "%.example.com"),
                ("user_id.login", "=", "demo"),
            ]
        )

    def test_quotes_in_every_state(self):
        orders = self.orders
        self.assertTrue(
            orders.filtered(
                lambda o: (
                    o.state == "draft"
                    and o.approval_state == "not_required"
                    and o.order_line.deviation_reason_id
                )
            ),
            "a quote deviating within the salesperson's authority",
        )
        for approval in ("pending", "rejected", "approved"):
            self.assertTrue(
                orders.filtered(lambda o, a=approval: o.approval_state == a),
                approval,
            )
        sent = orders.filtered(lambda o: o.state == "sent")
        self.assertEqual(
            set(sent.mapped("customer_response")), {"pending", "negotiating"}
        )
        self.assertTrue(sent.filtered("followup_overdue"))
        self.assertTrue(sent.filtered(lambda o: not o.followup_overdue))
        self.assertGreaterEqual(len(orders.filtered(lambda o: o.state == "sale")), 2)
        lost = orders.filtered(lambda o: o.state == "cancel")
        self.assertGreaterEqual(len(lost.lost_reason_id), 3)
        self.assertTrue(all(lost.mapped("lost_note")))
        self.assertTrue(all(lost.mapped("quote_sent_date")))

    def test_customers_with_tags_and_payment_terms(self):
        partners = self.orders.partner_id
        self.assertGreaterEqual(len(partners), 5)
        self.assertTrue(all(partners.mapped("category_id")))
        self.assertTrue(all(partners.mapped("property_payment_term_id")))

    def test_reports_show_every_outcome(self):
        groups = self.env["quote.analysis"]._read_group(
            [("order_id", "in", self.orders.ids)], ["outcome"], ["__count"]
        )
        self.assertEqual(
            {outcome for outcome, _count in groups}, {"open", "won", "lost"}
        )
        self.assertTrue(
            self.env["sale.order"].search_count(
                [("id", "in", self.orders.ids), ("followup_overdue", "=", True)]
            )
        )
        self.assertTrue(
            self.env["sale.order"].search_count(
                [("id", "in", self.orders.ids), ("response_deadline_passed", "=", True)]
            )
        )

    def test_versions_dated_when_the_quotes_were_sent(self):
        """The demo history is consistent: the first version a customer got is
        of the day the quote was sent, not of the day of installation."""
        dated = self.orders.filtered(lambda o: o.version_ids and o.quote_sent_date)
        self.assertGreaterEqual(len(dated), 3)
        for order in dated:
            first = order.version_ids.sorted("version")[:1]
            self.assertLess(
                abs((first.sent_date - order.quote_sent_date).total_seconds()),
                3600,
                order.name,
            )

    def test_open_desk_quotes_show_price_guidance(self):
        desk = self.env.ref("product.product_product_8")
        lines = self.orders.filtered(
            lambda o: o.state in ("draft", "sent")
        ).order_line.filtered(lambda line: line.product_id == desk)
        self.assertTrue(lines)
        for line, guidance in lines._get_price_guidance().items():
            self.assertEqual(guidance and guidance["scope"], "product", line)
