from contextlib import contextmanager
from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from ..hooks import post_init_hook
from .common import QuoteProcessCommon


class QuoteVersionCommon(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["quote.pricing.rule"].search([]).active = False
        cls.desk = cls.env["product.product"].create(
            {"name": "Large Desk", "list_price": 1650.0, "taxes_id": False}
        )
        cls.chair = cls.env["product.product"].create(
            {"name": "Task Chair", "list_price": 200.0, "taxes_id": False}
        )
        cls.term_30 = cls.env.ref("account.account_payment_term_30days")
        cls.term_immediate = cls.env.ref("account.account_payment_term_immediate")

    def _quote(self, user=None, **vals):
        user = user or self.salesman
        return (
            self.env["sale.order"]
            .with_user(user)
            .create(
                {
                    "partner_id": self.customer.id,
                    "user_id": user.id,
                    "payment_term_id": self.term_immediate.id,
                    "validity_date": date.today() + timedelta(days=30),
                    "order_line": [
                        Command.create(
                            {"display_type": "line_section", "name": "Office"}
                        ),
                        Command.create({"product_id": self.desk.id}),
                        Command.create(
                            {"product_id": self.chair.id, "product_uom_qty": 4}
                        ),
                        Command.create(
                            {"display_type": "line_note", "name": "Delivery in May"}
                        ),
                    ],
                    **vals,
                }
            )
        )

    def _send_by_email(self, order, user=None):
        """Send ``order`` with the composer the Send button opens."""
        user = user or self.salesman
        action = order.with_user(user).action_quotation_send()
        composer = (
            self.env["mail.compose.message"]
            .with_user(user)
            .with_context(**action["context"])
            .create({})
        )
        composer.action_send_mail()
        return order.message_ids[0]

    def _line(self, order, product):
        return order.order_line.filtered(lambda line: line.product_id == product)

    def _lower_desk_price(self, order, price=1590.0):
        self._line(order, self.desk).with_user(self.salesman).write(
            {
                "price_unit": price,
                "technical_price_unit": price,
                "deviation_reason_id": self.env.ref(
                    "quote_process.deviation_reason_competitor"
                ).id,
                "deviation_note": "Matched the competitor",
            }
        )

    def _notes(self, order):
        return order.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("mail.mt_note")
        )


@tagged("post_install", "-at_install")
class TestQuoteVersions(QuoteVersionCommon):
    def test_mark_as_sent_records_what_the_customer_received(self):
        order = self._quote()
        self.assertFalse(order.version_ids)
        order.with_user(self.salesman).action_quotation_sent()
        version = order.version_ids
        self.assertEqual(len(version), 1)
        self.assertEqual(order.version_count, 1)
        self.assertEqual(version.version, 1)
        self.assertEqual(version.channel, "mark_sent")
        self.assertEqual(version.sent_by_id, self.salesman)
        self.assertTrue(version.sent_date)
        self.assertEqual(version.currency_id, order.currency_id)
        self.assertAlmostEqual(version.amount_untaxed, 2450.0)
        self.assertAlmostEqual(version.amount_total, order.amount_total)
        self.assertEqual(version.payment_term_id, self.term_immediate)
        self.assertEqual(version.validity_date, order.validity_date)
        self.assertEqual(version.company_id, order.company_id)
        self.assertFalse(version.attachment_id)
        lines = version.line_data
        self.assertEqual(
            [line["display_type"] for line in lines],
            ["line_section", False, False, "line_note"],
        )
        self.assertEqual(lines[0]["name"], "Office")
        desk = lines[1]
        self.assertEqual(desk["product_id"], self.desk.id)
        self.assertEqual(desk["product"], "Large Desk")
        self.assertEqual(desk["quantity"], 1.0)
        self.assertEqual(desk["uom"], self.desk.uom_id.name)
        self.assertAlmostEqual(desk["price_unit"], 1650.0)
        self.assertAlmostEqual(desk["discount"], 0.0)
        self.assertAlmostEqual(desk["engine_price_unit"], 1650.0)
        self.assertAlmostEqual(desk["deviation_percent"], 0.0)
        self.assertAlmostEqual(lines[2]["price_subtotal"], 800.0)
        self.assertIn("Large Desk", desk["name"])
        self.assertIn("v1 sent to the customer", self._notes(order)[0].body)

    def test_resend_identical_makes_no_version_and_says_so(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._send_by_email(order)
        self.assertEqual(order.version_count, 1)
        self.assertIn(
            "same content as v1: no new version",
            order.message_ids.mapped("body")[1],
        )

    def test_changed_content_makes_a_new_version_with_its_summary(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        order.with_user(self.salesman).write({"payment_term_id": self.term_30.id})
        self._lower_desk_price(order)
        self._send_by_email(order)
        self.assertEqual(order.version_count, 2)
        v2 = order.version_ids[0]
        self.assertEqual(v2.version, 2)
        self.assertEqual(v2.channel, "email")
        self.assertEqual(v2.payment_term_id, self.term_30)
        summary = self._notes(order)[0].body
        self.assertIn("v2: Large Desk 1,650.00 → 1,590.00", summary)
        self.assertIn("payment terms 30 Days", summary)
        self.assertIn("total 2,450.00 → 2,390.00", summary)

    def test_email_keeps_the_pdf_the_customer_got(self):
        order = self._quote()
        email = self._send_by_email(order)
        self.assertEqual(order.state, "sent")
        version = order.version_ids
        self.assertEqual(version.channel, "email")
        # the quote document of the email (rendered as HTML in a test database)
        document = email.attachment_ids
        self.assertEqual(len(document), 1)
        self.assertIn(order.name, document.name)
        self.assertEqual(version.attachment_id, document)
        self.assertEqual(
            self.env["ir.attachment"].search_count(
                [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
            ),
            1,
            "no second rendering of the document",
        )
        # the email stays the last message of the quotation
        self.assertEqual(order.message_ids[0], email)
        self.assertIn("v1 sent to the customer (Email)", order.message_ids[1].body)

    def test_mass_mail_of_quotations_records_a_version_each(self):
        """Several quotations sent at once from the list, with the quotation
        template: each customer got its document, kept with its version."""
        orders = self._quote() | self._quote()
        orders[1].order_line[1].product_uom_qty = 2
        composer = (
            self.env["mail.compose.message"]
            .with_user(self.salesman)
            .with_context(
                **orders.with_user(self.salesman).action_quotation_send()["context"]
            )
            .create({"template_id": self.env.ref("sale.email_template_edi_sale").id})
        )
        self.assertEqual(composer.composition_mode, "mass_mail")
        mails, _messages = composer._action_send_mail()
        for order in orders:
            version = order.version_ids
            self.assertEqual(len(version), 1, order.name)
            self.assertEqual(version.channel, "email")
            self.assertEqual(version.version, 1)
            self.assertIn(order.name, version.attachment_id.name)
            mail = mails.filtered(lambda m, order=order: m.res_id == order.id)
            self.assertEqual(version.attachment_id, mail.attachment_ids)
        self.assertNotEqual(
            orders[0].version_ids.line_data, orders[1].version_ids.line_data
        )
        # the salesperson opens the document kept with the version
        document = orders[0].version_ids.attachment_id
        self.assertTrue(document.with_user(self.salesman).datas)
        # a free email (no document) is no version
        other = self._quote()
        composer = (
            self.env["mail.compose.message"]
            .with_context(**(other | orders).action_quotation_send()["context"])
            .create({"subject": "Our new catalogue", "body": "<p>See you</p>"})
        )
        composer._action_send_mail()
        self.assertFalse(other.version_ids)
        self.assertEqual(len(orders[0].version_ids), 1)

    def test_lines_are_stored_without_slow_compression(self):
        """The lines of a version are stored with lz4, or uncompressed where
        the server has no lz4: PostgreSQL's default compression of a large
        quotation would cost more than the rest of the sending's version."""
        self.env.cr.execute(
            "SELECT attcompression, attstorage FROM pg_attribute "
            "WHERE attrelid = 'quote_version'::regclass AND attname = 'line_data'"
        )
        compression, storage = self.env.cr.fetchone()
        self.assertTrue(compression == "l" or storage == "e", (compression, storage))

    def test_sending_again_leaves_the_lines_of_earlier_versions_unread(self):
        """Sending a quotation reads the number, fingerprint and totals of its
        last version, not the lines of its versions (hundreds of kB each on a
        large quotation): those are read where they are shown or compared."""
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._line(order, self.chair).write({"product_uom_qty": 5})
        order.with_user(self.salesman).action_draft()
        self.env.invalidate_all()
        queries = []
        with contextmanager(self._patchExecute)(queries):
            order.with_user(self.salesman).action_quotation_sent()
        version_reads = [
            query
            for query in queries
            if query.lstrip().upper().startswith("SELECT")
            and '"quote_version"."' in query
        ]
        self.assertTrue(version_reads)
        self.assertFalse([query for query in version_reads if "line_data" in query])
        self.assertEqual(order.version_count, 2)
        self.assertEqual(len(order.version_ids[0].line_data), 4)

    def test_rpc_sending_records_a_version(self):
        order = self._quote()
        order.with_user(self.salesman).write({"state": "sent"})
        self.assertEqual(order.version_ids.channel, "other")
        created = self._quote(state="sent")
        self.assertEqual(created.version_ids.channel, "other")
        self.assertEqual(created.version_ids.version, 1)

    def test_no_context_skips_the_version(self):
        order = self._quote()
        order.with_user(self.salesman).with_context(mark_so_as_sent=True).write(
            {"state": "sent"}
        )
        self.assertEqual(order.version_count, 1)

    def test_confirmation_sets_the_accepted_version(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._line(order, self.chair).write({"product_uom_qty": 6})
        self._send_by_email(order)
        self.assertEqual(order.version_count, 2)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.accepted_version_id, order.version_ids[0])
        self.assertEqual(order.accepted_version_id.version, 2)
        self.assertEqual(order.version_count, 2)

    def test_price_lock_names_the_accepted_version(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.accepted_version_id.version, 1)
        self._lower_desk_price(order)
        self.assertIn(
            "Price changed after confirmation (the customer accepted version 1):",
            order.message_ids[0].body,
        )

    def test_confirmation_of_changed_content_records_it(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._line(order, self.chair).write({"product_uom_qty": 5})
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.version_count, 2)
        self.assertEqual(order.accepted_version_id.channel, "confirmation")
        self.assertEqual(order.accepted_version_id.version, 2)

    def test_versions_cannot_be_changed_or_deleted(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        version = order.version_ids
        for user in (self.salesman, self.sales_manager, self.admin_user):
            with self.subTest(user=user.login):
                with self.assertRaises(UserError):
                    version.with_user(user).write({"amount_total": 1.0})
                with self.assertRaises(UserError):
                    version.with_user(user).unlink()
                self.assertFalse(version.with_user(user).has_access("write"))
                self.assertFalse(version.with_user(user).has_access("unlink"))
                with self.assertRaises(AccessError):
                    self.env["quote.version"].with_user(user).create(
                        {
                            "order_id": order.id,
                            "version": 9,
                            "channel": "other",
                            "sent_date": "2026-01-01",
                            "currency_id": order.currency_id.id,
                        }
                    )
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            version.sudo().write({"amount_total": 1.0})
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            version.sudo().unlink()
        self.assertAlmostEqual(version.amount_untaxed, 2450.0)

    def test_accepted_version_is_not_set_by_hand(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        with self.assertRaises(AccessError):
            order.with_user(self.sales_manager).write(
                {"accepted_version_id": order.version_ids.id}
            )
        self.assertFalse(order.accepted_version_id)

    def test_only_an_admin_deletes_a_sent_quote_and_its_versions(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        action = order.with_user(self.salesman).action_mark_lost()
        self.env["quote.lost.wizard"].with_user(self.salesman).with_context(
            **action["context"]
        ).create(
            {
                "lost_reason_id": self.env.ref(
                    "quote_process.lost_reason_price_higher"
                ).id
            }
        ).action_confirm()
        self.assertEqual(order.state, "cancel")
        version = order.version_ids
        with self.assertRaisesRegex(UserError, "versions are kept"):
            order.with_user(self.sales_manager).unlink()
        order.with_user(self.admin_user).unlink()
        self.assertFalse(version.exists())

    def test_salesperson_sees_versions_of_own_quotes_only(self):
        mine = self._quote()
        mine.with_user(self.salesman).action_quotation_sent()
        other = self._quote(user=self.salesman_all)
        other.with_user(self.salesman_all).action_quotation_sent()
        Version = self.env["quote.version"]
        orders = mine | other
        self.assertEqual(
            Version.with_user(self.salesman).search([("order_id", "in", orders.ids)]),
            mine.version_ids,
        )
        self.assertEqual(
            Version.with_user(self.sales_manager)
            .search([("order_id", "in", orders.ids)])
            .order_id,
            orders,
        )

    def test_portal_view_of_changed_quote_records_it(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._line(order, self.chair).write({"product_uom_qty": 8})
        self.assertEqual(order.current_version, 2)
        # the customer opening the quote on the portal receives what it is now
        order.sudo()._quote_version_record("portal", notify_identical=False)
        self.assertEqual(order.version_ids[0].channel, "portal")
        self.assertEqual(order.current_version, 2)
        order.sudo()._quote_version_record("portal", notify_identical=False)
        self.assertEqual(order.version_count, 2)

    def test_versions_of_quotes_sent_before_installation_are_not_invented(self):
        order = self._quote()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE sale_order SET state = 'sent' WHERE id = %s", [order.id]
        )
        order.invalidate_recordset()
        post_init_hook(self.env)
        self.assertFalse(order.version_ids)
        self.assertEqual(order.current_version, 1)


@tagged("post_install", "-at_install")
class TestQuoteVersionComparison(QuoteVersionCommon):
    def _three_versions(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        chair_line = self._line(order, self.chair)
        chair_line.write({"product_uom_qty": 6, "discount": 0.4})
        order.write(
            {
                "order_line": [Command.create({"product_id": self.product.id})],
                "validity_date": date(2030, 1, 31),
            }
        )
        self._send_by_email(order)
        desk_line = self._line(order, self.desk)
        desk_line.write({"name": "Large Desk, oak"})
        order.write({"payment_term_id": self.term_30.id})
        desk_line.unlink()
        self._send_by_email(order)
        return order

    def test_compare_two_versions(self):
        order = self._three_versions()
        v3, v2, v1 = order.version_ids
        self.assertEqual((v1.version, v2.version, v3.version), (1, 2, 3))
        changes = v2._diff(v1)
        self.assertIn("Task Chair quantity 4 → 6", changes)
        self.assertIn("Task Chair discount 0% → 0.4%", changes)
        self.assertIn("added Quote Process Widget (1 × 100.00)", changes)
        self.assertTrue(any(c.startswith("valid until") for c in changes))
        self.assertTrue(any(c.startswith("total 2,450.00 → ") for c in changes))
        changes = v3._diff(v2)
        self.assertIn("removed Large Desk", changes)
        self.assertIn("payment terms 30 Days", changes)
        # any two versions, from the list
        action = (v1 | v3).with_user(self.salesman).action_compare()
        wizard = self.env["quote.version.compare"].browse(action["res_id"])
        self.assertEqual(wizard.version_from_id, v1)
        self.assertEqual(wizard.version_to_id, v3)
        html = str(wizard.comparison_html)
        self.assertIn("removed Large Desk", html)
        self.assertIn("added Quote Process Widget", html)
        self.assertIn("payment terms 30 Days", html)
        self.assertNotIn("Task Chair quantity 6", html)
        # a version and its previous one
        wizard = self.env["quote.version.compare"].browse(v2.action_compare()["res_id"])
        self.assertEqual(wizard.version_from_id, v1)
        self.assertIn("No change", str(v1._diff_html(v1)))

    def _change_lines(self, order):
        """Change the chair, reword the note, add a product, remove the desk;
        the section stays as it is."""
        self._line(order, self.chair).write({"product_uom_qty": 6, "discount": 0.4})
        order.order_line.filtered(lambda line: line.display_type == "line_note").write(
            {"name": "Delivery in June"}
        )
        order.write({"order_line": [Command.create({"product_id": self.product.id})]})
        self._line(order, self.desk).unlink()

    def test_chatter_line_is_the_comparison_whichever_the_sending(self):
        """The chatter line of a new version says what the comparison with
        the previous version says, every change and no unchanged line, whether
        the version is recorded before its chatter line (Mark as Sent) or
        after it (email)."""
        for send in ("mark_sent", "email"):
            with self.subTest(send=send):
                order = self._quote()
                order.with_user(self.salesman).action_quotation_sent()
                self._change_lines(order)
                if send == "mark_sent":
                    order.with_user(self.salesman).action_draft()
                    order.with_user(self.salesman).action_quotation_sent()
                else:
                    self._send_by_email(order)
                v2, v1 = order.version_ids
                self.assertEqual(v2.channel, send)
                changes = v2._diff(v1)
                self.assertEqual(
                    changes[:5],
                    [
                        "Task Chair quantity 4 → 6",
                        "Task Chair discount 0% → 0.4%",
                        'note changed to "Delivery in June"',
                        "added Quote Process Widget (1 × 100.00)",
                        "removed Large Desk",
                    ],
                )
                self.assertNotIn("Office", "; ".join(changes))
                summary = self._notes(order).filtered(lambda m: "v2:" in (m.body or ""))
                self.assertEqual(len(summary), 1)
                self.assertEqual(str(summary.body), f"<p>v2: {'; '.join(changes)}</p>")

    def test_description_change(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._line(order, self.desk).write({"name": "Large Desk, walnut"})
        self._send_by_email(order)
        v2, v1 = order.version_ids
        self.assertIn("Large Desk: new description", v2._diff(v1))

    def test_numbers_in_the_readers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._lower_desk_price(order)
        self._send_by_email(order)
        v2 = order.version_ids[0].with_context(lang="de_DE")
        self.assertIn("Large Desk 1.650,00 → 1.590,00", v2._diff(v2._previous()))


@tagged("post_install", "-at_install")
class TestQuoteVersionPortal(QuoteVersionCommon, HttpCase):
    def test_customer_signature_accepts_the_version_seen(self):
        order = self._quote(require_signature=True, require_payment=False)
        order.with_user(self.salesman).action_quotation_sent()
        self._line(order, self.chair).write({"product_uom_qty": 10})
        order.sudo()._portal_ensure_token()
        self.authenticate(None, None)
        response = self.url_open(order.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(order.version_count, 2)
        self.assertEqual(order.version_ids[0].channel, "portal")
        self.assertIn("Version 2", response.text)
        earlier = response.text.split('id="quote_versions"')[1].split("</section>")[0]
        self.assertIn("Version 1", earlier)
        self.assertNotIn("Version 2", earlier)
        # a second visit of the same content makes no new version
        self.url_open(order.get_portal_url())
        self.env.invalidate_all()
        self.assertEqual(order.version_count, 2)
        result = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {
                "access_token": order.access_token,
                "name": "Customer",
                "signature": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
                "2mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
            },
        )
        self.assertNotIn("error", result)
        self.env.invalidate_all()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.accepted_version_id, order.version_ids[0])
        self.assertEqual(order.accepted_version_id.version, 2)


@tagged("post_install", "-at_install")
class TestQuoteVersionDocuments(QuoteVersionCommon):
    def _document(self, order):
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "sale.action_report_saleorder", order.ids
        )
        return html.decode()

    def test_version_number_on_the_quote_document(self):
        order = self._quote()
        self.assertIn("(Version 1)", " ".join(self._document(order).split()))
        order.with_user(self.salesman).action_quotation_sent()
        self.assertIn("(Version 1)", " ".join(self._document(order).split()))
        self._line(order, self.chair).write({"product_uom_qty": 5})
        # the document sent next is the next version
        self.assertIn("(Version 2)", " ".join(self._document(order).split()))

    def test_rounds_of_negotiation_in_the_analysis(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._line(order, self.chair).write({"product_uom_qty": 5})
        self._send_by_email(order)
        order.with_user(self.salesman).action_confirm()
        self.env.flush_all()
        row = self.env["quote.analysis"].search([("order_id", "=", order.id)])
        self.assertEqual(row.version_count, 2)
        groups = self.env["quote.analysis"]._read_group(
            [("order_id", "=", order.id)], ["version_count"], ["win_rate:avg"]
        )
        self.assertEqual(groups, [(2, 100.0)])


@tagged("post_install", "-at_install")
class TestQuoteVersionTour(QuoteVersionCommon, HttpCase):
    def test_compare_versions_in_the_browser(self):
        order = self._quote()
        order.with_user(self.salesman).action_quotation_sent()
        self._lower_desk_price(order)
        self._send_by_email(order)
        self.assertEqual(order.version_count, 2)
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "quote_process_versions_tour",
            login=self.salesman.login,
        )
