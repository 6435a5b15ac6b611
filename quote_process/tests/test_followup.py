from contextlib import contextmanager
from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.http import Request
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..models.ir_config_parameter import MAIL_BATCH_SIZE
from .common import QuoteProcessCommon

SENT_AT = datetime(2025, 3, 3, 9, 0)  # Monday, 10:00 in Brussels
LOGGER = "odoo.addons.quote_process.models.sale_order_reminder"


@tagged("post_install", "-at_install")
class TestFollowupCommon(QuoteProcessCommon):
    @classmethod
    def default_env_context(cls):
        # tracking and mail on: the follow-up rules are about messages
        return {"no_reset_password": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "quote_followup_days": 10,
                "quote_escalation_days": 5,
                "quote_response_days": 10,
                "quote_remind_preexisting": False,
            }
        )
        cls.cron = cls.env.ref("quote_process.ir_cron_remind_overdue_quotes")
        cls.salesman.write({"tz": "Europe/Brussels", "lang": "en_US"})
        cls.leader = new_test_user(
            cls.env,
            login="qp_leader",
            name="Lea Leader",
            groups="sales_team.group_sale_manager",
            tz="Europe/Paris",
        )
        cls.team = cls.env["crm.team"].create(
            {"name": "Follow-up Team", "user_id": cls.leader.id}
        )
        cls.followup_customer = cls.env["res.partner"].create(
            {
                "name": "Silent Customer",
                "email": "silent.customer@example.com",
                "is_company": True,
            }
        )
        cls.partner_root = cls.env.ref("base.partner_root")

    def _make_quote(self, user=None, **values):
        """A quotation of the team for the silent customer, by default the
        salesman's, created by the system."""
        values = {"team_id": self.team.id, **values}
        return self.create_quote(
            self.salesman if user is None else user,
            [self.quote_line(qty=3)],
            partner=self.followup_customer,
            sudo=True,
            **values,
        )

    def _mark_lost_as_salesman(self, order):
        """Cancel a sent quotation the only way allowed: marked lost."""
        reason = self.env["crm.lost.reason"].search([], limit=1)
        self.mark_lost(order, self.salesman, reason)

    def _sent_quote(self, user=None, at=SENT_AT, **values):
        with freeze_time(at):
            order = self._make_quote(user=user, **values)
            order.with_user(order.user_id or self.env.user).action_quotation_sent()
            self.env.flush_all()
            self.env.cr.precommit.run()  # post the tracking of the sending now
        return order

    @contextmanager
    def _recording_writes(self):
        """The values of every ``sale.order.write`` made inside, in order."""
        SaleOrder = self.registry["sale.order"]
        written = []
        write = SaleOrder.write

        def record_write(records, vals):
            written.append(dict(vals))
            return write(records, vals)

        with patch.object(SaleOrder, "write", record_write):
            yield written

    def _run_cron(self, at):
        with freeze_time(at), self.enter_registry_test_mode():
            result = self.cron.sudo().method_direct_trigger()
        self.assertIs(result, True, "the scheduled action must not fail")
        self.env.invalidate_all()

    def _mails_to(self, order, user):
        """Reminders (to the salesperson) or escalations (to the leader)."""
        return self.env["mail.mail"].search(
            [
                ("model", "=", "sale.order"),
                ("res_id", "=", order.id),
                ("recipient_ids", "in", user.partner_id.ids),
                "|",
                ("subject", "=like", "Follow up quotation %"),
                ("subject", "=like", "No follow-up on quotation %"),
            ]
        )

    def _todos(self, order, user):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "sale.order"),
                ("res_id", "=", order.id),
                ("user_id", "=", user.id),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref("mail.mail_activity_data_todo").id,
                ),
            ]
        )


@tagged("post_install", "-at_install")
class TestFollowupSending(TestFollowupCommon):
    def test_mark_as_sent_starts_followup(self):
        order = self._make_quote()
        self.assertFalse(order.quote_sent_date)
        self.assertFalse(order.customer_response)
        with freeze_time(SENT_AT):
            order.with_user(self.salesman).action_quotation_sent()
        self.assertEqual(order.state, "sent")
        self.assertEqual(order.quote_sent_date, SENT_AT)
        self.assertEqual(order.last_followup_date, SENT_AT)
        self.assertEqual(order.customer_response, "pending")
        self.assertEqual(order.response_deadline, date(2025, 3, 13))
        self.assertEqual(order.reminder_count, 0)

    def test_send_by_email_starts_followup(self):
        order = self._make_quote()
        with freeze_time(SENT_AT):
            action = order.with_user(self.salesman).action_quotation_send()
            composer = (
                self.env["mail.compose.message"]
                .with_user(self.salesman)
                .with_context(**action["context"])
                .create({})
            )
            composer.action_send_mail()
        self.assertEqual(order.state, "sent")
        self.assertEqual(order.quote_sent_date, SENT_AT)
        self.assertEqual(order.customer_response, "pending")
        self.assertEqual(order.response_deadline, date(2025, 3, 13))

    def test_first_sending_only(self):
        order = self._sent_quote()
        with freeze_time("2025-03-05 09:00:00"):
            self._mark_lost_as_salesman(order)
            order.with_user(self.salesman).action_draft()
            order.with_user(self.salesman).action_quotation_sent()
        self.assertEqual(order.quote_sent_date, SENT_AT, "the first sending is kept")
        self.assertEqual(order.response_deadline, date(2025, 3, 13))

    def test_created_as_sent(self):
        """Import or RPC create of an already sent quotation."""
        with freeze_time(SENT_AT):
            order = self._make_quote(state="sent")
        self.assertEqual(order.quote_sent_date, SENT_AT)
        self.assertEqual(order.customer_response, "pending")

    def test_created_with_a_response(self):
        with freeze_time(SENT_AT):
            order = self._make_quote(state="sent", customer_response="negotiating")
        self.assertEqual(order.customer_response, "negotiating")
        self.assertEqual(order.customer_response_date, SENT_AT)

    def test_scheduled_action(self):
        self.assertEqual(self.cron.model_id.model, "sale.order")
        self.assertEqual(self.cron.code.strip(), "model._cron_remind_overdue_quotes()")
        self.assertEqual(
            (self.cron.interval_number, self.cron.interval_type), (1, "days")
        )
        self.assertTrue(self.cron.active)
        data = self.env["ir.model.data"].search(
            [
                ("module", "=", "quote_process"),
                ("name", "=", "ir_cron_remind_overdue_quotes"),
            ]
        )
        self.assertTrue(data.noupdate)

    def test_deadline_in_owner_timezone(self):
        """Sent at 23:30 UTC: already the next day in Shanghai."""
        self.salesman.tz = "Asia/Shanghai"
        order = self._sent_quote(at=datetime(2025, 3, 3, 23, 30))
        self.assertEqual(order.response_deadline, date(2025, 3, 14))

    def test_response_days_of_the_company(self):
        self.company.quote_response_days = 3
        order = self._sent_quote()
        self.assertEqual(order.response_deadline, date(2025, 3, 6))

    def test_copy_restarts_followup(self):
        order = self._sent_quote()
        copy = order.copy()
        self.assertFalse(copy.quote_sent_date)
        self.assertFalse(copy.customer_response)
        self.assertFalse(copy.response_deadline)

    def test_confirmation_is_acceptance(self):
        order = self._sent_quote()
        with freeze_time("2025-03-07 09:00:00"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.customer_response, "accepted")
        self.assertEqual(order.customer_response_date, datetime(2025, 3, 7, 9, 0))

    def test_confirmation_writes_the_acceptance_with_the_state(self):
        """The acceptance goes with the confirmation's own write of the order,
        not in writes of its own for the response and its date."""
        order = self._sent_quote()
        with freeze_time("2025-03-07 09:00:00"), self._recording_writes() as written:
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(
            [vals for vals in written if "state" in vals],
            [{"state": "sale", "date_order": datetime(2025, 3, 7, 9, 0)}],
        )
        followup = {"customer_response", "customer_response_date"}
        self.assertFalse([vals for vals in written if followup & set(vals)])
        self.assertEqual(order.customer_response, "accepted")
        self.assertEqual(order.customer_response_date, datetime(2025, 3, 7, 9, 0))

    def test_response_brings_its_date_and_followup_in_one_write(self):
        """A first response other than pending: its date and the follow-up it
        is go together in one write after the person's own."""
        order = self._sent_quote()
        with freeze_time("2025-03-07 09:00:00"), self._recording_writes() as written:
            order.with_user(self.salesman).write({"customer_response": "negotiating"})
        now = datetime(2025, 3, 7, 9, 0)
        self.assertEqual(
            written,
            [
                {"customer_response": "negotiating"},
                {
                    "customer_response_date": now,
                    "last_followup_date": now,
                    "quote_preexisting": False,
                },
            ],
        )
        self.assertEqual(order.customer_response_date, now)
        self.assertEqual(order.last_followup_date, now)

    def test_signature_is_acceptance(self):
        """Signed on the portal (Odoo writes the signature as superuser): the
        quotation stays sent, accepted, and the signature is a follow-up."""
        order = self._sent_quote()
        with freeze_time("2025-03-06 09:00:00"):
            order.sudo().write(
                {
                    "signature": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC",
                    "signed_by": "Silent Customer",
                    "signed_on": datetime(2025, 3, 6, 9, 0),
                }
            )
        self.assertEqual(order.state, "sent")
        self.assertEqual(order.customer_response, "accepted")
        self.assertEqual(order.customer_response_date, datetime(2025, 3, 6, 9, 0))
        self.assertEqual(order.last_followup_date, datetime(2025, 3, 6, 9, 0))

    def test_quotes_sent_together_keep_their_own_deadline(self):
        """Sent in one call at 22:30 UTC: the next day in Shanghai, still
        the same day in Brussels; each quotation gets its own deadline."""
        other = new_test_user(
            self.env,
            login="qp_far_salesman",
            groups="sales_team.group_sale_salesman",
            tz="Asia/Shanghai",
        )
        orders = self._make_quote() | self._make_quote(user=other)
        with freeze_time(datetime(2025, 3, 3, 22, 30)):
            orders.sudo().action_quotation_sent()
        self.assertEqual(
            orders.mapped("response_deadline"), [date(2025, 3, 13), date(2025, 3, 14)]
        )
        self.assertEqual(orders.mapped("customer_response"), ["pending", "pending"])
        self.assertEqual(
            orders.mapped("quote_sent_date"), [datetime(2025, 3, 3, 22, 30)] * 2
        )

    def test_system_fields_refused_to_salesman(self):
        order = self._sent_quote()
        for field_name, value in (
            ("last_followup_date", "2025-04-01 00:00:00"),
            ("reminder_count", 0),
            ("quote_sent_date", False),
            ("quote_preexisting", True),
        ):
            with self.subTest(field=field_name), self.assertRaises(AccessError):
                order.with_user(self.salesman).write({field_name: value})
        with self.assertRaises(AccessError):
            self._make_quote().with_user(self.salesman).copy(
                {"last_followup_date": "2025-04-01 00:00:00"}
            )
        order.with_user(self.sales_manager).write(
            {"last_followup_date": "2025-04-01 00:00:00"}
        )
        self.assertEqual(order.last_followup_date, datetime(2025, 4, 1))

    def test_salesman_moves_deadline(self):
        order = self._sent_quote()
        order.with_user(self.salesman).write({"response_deadline": "2025-03-20"})
        self.assertEqual(order.response_deadline, date(2025, 3, 20))


@tagged("post_install", "-at_install")
class TestFollowupCounting(TestFollowupCommon):
    """What moves last_followup_date, and what does not."""

    LATER = datetime(2025, 3, 5, 14, 0)

    def assertFollowup(self, order, action, counts):
        order = order or self._sent_quote()
        self.assertEqual(order.last_followup_date, SENT_AT)
        with freeze_time(self.LATER):
            action(order)
            self.env.flush_all()
            # tracking messages are posted when the transaction commits
            self.env.cr.precommit.run()
        order.invalidate_recordset()
        expected = self.LATER if counts else SENT_AT
        self.assertEqual(order.last_followup_date, expected)
        return order

    def test_salesman_message_counts(self):
        self.assertFollowup(
            None,
            lambda o: o.with_user(self.salesman).message_post(
                body="Called the buyer, they will answer Friday",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            ),
            counts=True,
        )

    def test_salesman_note_counts(self):
        self.assertFollowup(
            None,
            lambda o: o.with_user(self.salesman).message_post(
                body="Left a voicemail",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            ),
            counts=True,
        )

    def test_activity_done_counts(self):
        order = self._sent_quote()
        activity = order.with_user(self.salesman).activity_schedule(
            "mail.mail_activity_data_call", user_id=self.salesman.id
        )
        self.env.flush_all()
        self.assertEqual(
            order.last_followup_date, SENT_AT, "scheduling is no follow-up"
        )
        self.assertFollowup(
            order,
            lambda o: activity.with_user(self.salesman).action_feedback("Called"),
            counts=True,
        )

    def test_activity_done_by_system_does_not_count(self):
        order = self._sent_quote()
        activity = order.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.salesman.id
        )
        self.assertFollowup(
            order,
            lambda o: activity.with_user(
                self.env.ref("base.user_root")
            ).action_feedback("Closed automatically"),
            counts=False,
        )

    def test_response_change_counts(self):
        order = self.assertFollowup(
            None,
            lambda o: o.with_user(self.salesman).write(
                {"customer_response": "negotiating"}
            ),
            counts=True,
        )
        self.assertEqual(order.customer_response_date, self.LATER)

    def test_incoming_customer_email_counts(self):
        def receive(order):
            self.env["mail.thread"].message_process(
                "sale.order",
                (
                    "From: Silent Customer <silent.customer@example.com>\r\n"
                    "To: sales@example.com\r\n"
                    "Subject: Re: your quotation\r\n"
                    "Message-Id: <qp-followup-reply-1@example.com>\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "\r\n"
                    "We need a better price on the widgets.\r\n"
                ),
                thread_id=order.id,
            )

        order = self.assertFollowup(None, receive, counts=True)
        message = order.message_ids.filtered(lambda m: m.message_type == "email")
        self.assertEqual(message.author_id, self.followup_customer)

    def test_portal_customer_message_counts(self):
        # what the portal chatter posts on behalf of the customer
        self.assertFollowup(
            None,
            lambda o: o.sudo().message_post(
                body="Can you deliver in May?",
                author_id=self.followup_customer.id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            ),
            counts=True,
        )

    def test_tracking_does_not_count(self):
        order = self.assertFollowup(
            None,
            lambda o: o.with_user(self.salesman).write(
                {"response_deadline": "2025-03-25"}
            ),
            counts=False,
        )
        tracking = order.message_ids.filtered(
            lambda m: (
                "response_deadline" in m.tracking_value_ids.field_id.mapped("name")
                and m.date == self.LATER
            )
        )
        self.assertTrue(tracking, "the change was tracked, and did not count")

    def test_system_note_does_not_count(self):
        """Notes posted by code (approvals, state changes) are notifications."""
        self.assertFollowup(
            None,
            lambda o: o.with_user(self.salesman).message_post(
                body="Approved by the sales manager",
                subtype_xmlid="mail.mt_note",
            ),
            counts=False,
        )

    def test_odoobot_comment_does_not_count(self):
        self.assertFollowup(
            None,
            lambda o: o.message_post(
                body="Automatic comment",
                message_type="comment",
                author_id=self.partner_root.id,
                subtype_xmlid="mail.mt_comment",
            ),
            counts=False,
        )

    def test_reminder_does_not_count(self):
        order = self._sent_quote()
        self._run_cron(datetime(2025, 3, 13, 9, 0))
        self.assertEqual(order.reminder_count, 1)
        self.assertEqual(order.last_followup_date, SENT_AT)

    def test_draft_messages_do_not_start_followup(self):
        order = self._make_quote()
        order.with_user(self.salesman).message_post(
            body="Preparing it", message_type="comment"
        )
        self.assertFalse(order.last_followup_date)


@tagged("post_install", "-at_install")
class TestFollowupReminder(TestFollowupCommon):
    def test_boundaries(self):
        """Day N-1: nothing; day N: reminder; N+E-1: nothing; N+E: escalation."""
        order = self._sent_quote()
        self._run_cron(datetime(2025, 3, 12, 21, 0))  # day 9 (22:00 in Brussels)
        self.assertFalse(self._mails_to(order, self.salesman))
        self.assertEqual(order.reminder_count, 0)

        self._run_cron(datetime(2025, 3, 12, 23, 30))  # day 10 in Brussels already
        mail = self._mails_to(order, self.salesman)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing", "queued, not sent in the cron")
        self.assertIn(order.name, mail.subject)
        self.assertIn("10", mail.body_html)
        self.assertIn(f"/odoo/sales/{order.id}", mail.body_html)
        self.assertEqual(mail.recipient_ids, self.salesman.partner_id)
        self.assertFalse(mail.email_to, "never sent to the customer")
        self.assertEqual(order.reminder_count, 1)
        self.assertEqual(order.last_reminder_date, datetime(2025, 3, 12, 23, 30))
        todo = self._todos(order, self.salesman)
        self.assertEqual(len(todo), 1)
        self.assertEqual(todo.date_deadline, date(2025, 3, 13))
        self.assertIn("10 days", str(todo.note))
        self.assertFalse(self._mails_to(order, self.leader))

        self._run_cron(datetime(2025, 3, 17, 12, 0))  # N+E-1
        self.assertFalse(self._mails_to(order, self.leader))
        self.assertFalse(order.last_escalation_date)

        self._run_cron(datetime(2025, 3, 18, 12, 0))  # N+E
        escalation = self._mails_to(order, self.leader)
        self.assertEqual(len(escalation), 1)
        self.assertIn(self.salesman.name, escalation.body_html)
        self.assertEqual(order.last_escalation_date, datetime(2025, 3, 18, 12, 0))
        self.assertEqual(order.reminder_count, 1, "escalation is not a reminder")

        self._run_cron(datetime(2025, 4, 30, 12, 0))  # much later: nothing more
        self.assertEqual(len(self._mails_to(order, self.salesman)), 1)
        self.assertEqual(len(self._mails_to(order, self.leader)), 1)
        self.assertEqual(len(self._todos(order, self.salesman)), 1)

    def test_running_twice_sends_once(self):
        order = self._sent_quote()
        for _attempt in range(2):
            self._run_cron(datetime(2025, 3, 13, 9, 0))
        self.assertEqual(len(self._mails_to(order, self.salesman)), 1)
        self.assertEqual(len(self._todos(order, self.salesman)), 1)
        self.assertEqual(order.reminder_count, 1)
        for _attempt in range(2):
            self._run_cron(datetime(2025, 3, 18, 9, 0))
        self.assertEqual(len(self._mails_to(order, self.leader)), 1)

    def test_followup_starts_a_new_period(self):
        order = self._sent_quote()
        self._run_cron(datetime(2025, 3, 13, 9, 0))
        self.assertEqual(order.reminder_count, 1)
        with freeze_time("2025-03-14 09:00:00"):
            order.with_user(self.salesman).message_post(
                body="Sent the technical sheet", message_type="comment"
            )
        self._run_cron(datetime(2025, 3, 18, 9, 0))
        self.assertFalse(
            self._mails_to(order, self.leader), "followed up: no escalation"
        )
        self._run_cron(datetime(2025, 3, 23, 9, 0))  # 9 days after the follow-up
        self.assertEqual(order.reminder_count, 1)
        self._run_cron(datetime(2025, 3, 24, 9, 0))  # 10 days after
        self.assertEqual(order.reminder_count, 2)
        self.assertEqual(len(self._mails_to(order, self.salesman)), 2)

    def test_two_owners_two_timezones(self):
        """Sent together at 12:00 UTC: already 4 March in Auckland, still
        3 March in Los Angeles; each owner's tenth day comes at another time."""
        kiwi = new_test_user(
            self.env,
            login="qp_kiwi",
            name="Kiri Auckland",
            groups="sales_team.group_sale_salesman",
            tz="Pacific/Auckland",
        )
        angeleno = new_test_user(
            self.env,
            login="qp_angeleno",
            name="Luis Angeles",
            groups="sales_team.group_sale_salesman",
            tz="America/Los_Angeles",
        )
        sent_at = datetime(2025, 3, 3, 12, 0)
        kiwi_quote = self._sent_quote(user=kiwi, at=sent_at)
        la_quote = self._sent_quote(user=angeleno, at=sent_at)
        self.assertEqual(kiwi_quote.response_deadline, date(2025, 3, 14))
        self.assertEqual(la_quote.response_deadline, date(2025, 3, 13))

        # 13 March 23:30 in Auckland (day 9), 03:30 in Los Angeles (day 10)
        self._run_cron(datetime(2025, 3, 13, 10, 30))
        self.assertFalse(self._mails_to(kiwi_quote, kiwi))
        self.assertEqual(len(self._mails_to(la_quote, angeleno)), 1)
        # one hour later it is 14 March in Auckland: day 10
        self._run_cron(datetime(2025, 3, 13, 11, 30))
        self.assertEqual(len(self._mails_to(kiwi_quote, kiwi)), 1)
        self.assertEqual(len(self._mails_to(la_quote, angeleno)), 1)
        self.assertEqual(self._todos(kiwi_quote, kiwi).date_deadline, date(2025, 3, 14))
        self.assertEqual(
            self._todos(la_quote, angeleno).date_deadline, date(2025, 3, 13)
        )

    def test_rendered_in_owner_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.salesman.lang = "fr_FR"
        order = self._sent_quote()
        other = self._sent_quote(user=self.salesman_all)
        self.salesman_all.write({"lang": "en_US", "tz": "Europe/Brussels"})
        self._run_cron(datetime(2025, 3, 13, 9, 0))
        # the deadline 13 March 2025 in each owner's date format
        self.assertIn("13/03/2025", self._mails_to(order, self.salesman).body_html)
        self.assertIn("03/13/2025", self._mails_to(other, self.salesman_all).body_html)

    def test_closed_quotes_are_left_alone(self):
        accepted = self._sent_quote()
        accepted.with_user(self.salesman).write({"customer_response": "accepted"})
        declined = self._sent_quote()
        declined.with_user(self.salesman).write({"customer_response": "declined"})
        confirmed = self._sent_quote()
        confirmed.with_user(self.salesman).action_confirm()
        cancelled = self._sent_quote()
        self._mark_lost_as_salesman(cancelled)
        negotiating = self._sent_quote()
        with freeze_time(SENT_AT):
            negotiating.with_user(self.salesman).write(
                {"customer_response": "negotiating"}
            )
        never_sent = self._make_quote()
        self._run_cron(datetime(2025, 4, 30, 9, 0))
        for order in accepted | declined | confirmed | cancelled | never_sent:
            with self.subTest(order=order.name):
                self.assertFalse(self._mails_to(order, self.salesman))
                self.assertEqual(order.reminder_count, 0)
        self.assertEqual(len(self._mails_to(negotiating, self.salesman)), 1)

    def test_archived_owner_goes_to_team_leader(self):
        gone = new_test_user(
            self.env,
            login="qp_gone",
            name="Gus Gone",
            groups="sales_team.group_sale_salesman",
            tz="Europe/Brussels",
        )
        order = self._sent_quote(user=gone)
        no_owner = self._sent_quote(user=self.env["res.users"])
        self.assertFalse(no_owner.user_id)
        gone.action_archive()
        self._run_cron(datetime(2025, 3, 13, 9, 0))
        for quote in order | no_owner:
            with self.subTest(order=quote.name):
                self.assertEqual(len(self._mails_to(quote, self.leader)), 1)
                self.assertEqual(len(self._todos(quote, self.leader)), 1)
                self.assertEqual(quote.reminder_count, 1)
                self.assertTrue(quote.last_escalation_date)
        self.assertFalse(self._mails_to(order, gone))
        self.assertIn("no longer active", self._mails_to(order, self.leader).body_html)
        self._run_cron(datetime(2025, 3, 25, 9, 0))
        self.assertEqual(len(self._mails_to(order, self.leader)), 1, "told once")

    def test_nobody_to_remind(self):
        self.team.user_id = False
        order = self._sent_quote(user=self.env["res.users"])
        with mute_logger(LOGGER):
            self._run_cron(datetime(2025, 3, 13, 9, 0))
        self.assertEqual(order.reminder_count, 0, "not counted: nobody was told")
        self.assertFalse(
            self.env["mail.mail"].search(
                [("model", "=", "sale.order"), ("res_id", "=", order.id)]
            )
        )

    def test_failure_isolation(self):
        """One quotation failing does not stop the others, nor count."""
        good_1 = self._sent_quote()
        bad = self._sent_quote()
        good_2 = self._sent_quote()
        SaleOrder = type(self.env["sale.order"])
        original = SaleOrder._get_quote_followup_url

        def broken_url(record):
            if record.id == bad.id:
                raise ValueError("broken quotation")
            return original(record)

        with (
            patch.object(SaleOrder, "_get_quote_followup_url", broken_url),
            mute_logger(LOGGER, "odoo.addons.mail.models.mail_render_mixin"),
        ):
            self._run_cron(datetime(2025, 3, 13, 9, 0))
        for order in good_1 | good_2:
            self.assertEqual(len(self._mails_to(order, self.salesman)), 1)
            self.assertEqual(len(self._todos(order, self.salesman)), 1)
            self.assertEqual(order.reminder_count, 1)
        self.assertFalse(self._mails_to(bad, self.salesman))
        self.assertFalse(self._todos(bad, self.salesman))
        self.assertEqual(bad.reminder_count, 0)
        self.assertFalse(bad.last_reminder_date)
        # fixed: reminded on the next run, the others not twice
        self._run_cron(datetime(2025, 3, 14, 9, 0))
        self.assertEqual(bad.reminder_count, 1)
        self.assertEqual(len(self._mails_to(good_1, self.salesman)), 1)

    def test_batches(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "quote_process.followup_batch_size", 2
        )
        orders = self.env["sale.order"]
        for _index in range(5):
            orders |= self._sent_quote()
        self._run_cron(datetime(2025, 3, 13, 9, 0))
        self.assertEqual(orders.mapped("reminder_count"), [1] * 5)
        progress = self.env["ir.cron.progress"].search(
            [("cron_id", "=", self.cron.id)], order="id desc", limit=1
        )
        self.assertEqual(progress.remaining, 0)
        self.assertGreaterEqual(progress.done, 5)

    def test_handled_quotes_left_out_of_the_next_run(self):
        """When the scheduled action runs again for what remains of a backlog
        (its time was up), it carries on with the quotations not yet handled
        instead of going through the reminded ones again; each one comes back
        when its escalation is due."""
        self.env["ir.config_parameter"].sudo().set_param(
            "quote_process.followup_batch_size", 2
        )
        orders = self.env["sale.order"]
        for _index in range(5):
            orders |= self._sent_quote()
        SaleOrder = type(self.env["sale.order"])
        original = SaleOrder._quote_followup_process_batch
        batches = []

        def process_batch(records, now):
            batches.append(records.ids)
            # going through the same quotations again would never end
            # (Odoo runs the action again while some remain)
            if len(batches) > 5:
                raise AssertionError(f"the same quotations again: {batches}")
            return original(records, now)

        IrCron = type(self.env["ir.cron"])
        commit_progress = IrCron._commit_progress

        def time_up(cron, processed=0, **kwargs):
            # no time left after the first batch of each run
            commit_progress(cron, processed, **kwargs)
            return 0

        at = datetime(2025, 3, 13, 9, 0)
        with (
            patch.object(SaleOrder, "_quote_followup_process_batch", process_batch),
            patch.object(IrCron, "_commit_progress", time_up),
        ):
            for _run in range(3):
                self._run_cron(at)
        self.assertEqual(batches, [orders.ids[0:2], orders.ids[2:4], orders.ids[4:]])
        self.assertEqual(orders.mapped("reminder_count"), [1] * 5)
        domain = orders._quote_followup_candidate_domain(at)
        self.assertFalse(orders.search(domain & Domain("id", "in", orders.ids)))
        # 5 escalation days later, they are candidates again, to be escalated
        escalation_day = datetime(2025, 3, 18, 9, 0)
        domain = orders._quote_followup_candidate_domain(escalation_day)
        self.assertEqual(orders.search(domain & Domain("id", "in", orders.ids)), orders)
        self._run_cron(escalation_day)
        for order in orders:
            self.assertEqual(len(self._mails_to(order, self.leader)), 1)
        domain = orders._quote_followup_candidate_domain(datetime(2025, 4, 30))
        self.assertFalse(orders.search(domain & Domain("id", "in", orders.ids)))

    def test_locked_quote_is_skipped(self):
        """A quotation locked by a concurrent run is left to that run."""
        locked = self._sent_quote()
        free = self._sent_quote()
        SaleOrder = type(self.env["sale.order"])
        original = SaleOrder._quote_followup_lock

        def lock_all_but(records):
            return original(records) - locked

        with patch.object(SaleOrder, "_quote_followup_lock", lock_all_but):
            self._run_cron(datetime(2025, 3, 13, 9, 0))
        self.assertEqual(locked.reminder_count, 0)
        self.assertEqual(free.reminder_count, 1)

    def test_batch_compiles_each_email_once(self):
        """The body of the reminder is compiled once, not once per quotation
        nor per batch, and still says, in each email, which quotation it is
        about; an edited body is compiled anew."""
        orders = self.env["sale.order"]
        for _index in range(3):
            orders |= self._sent_quote()
        # two batches, of two quotations and of one
        self.env["ir.config_parameter"].sudo().set_param(
            "quote_process.followup_batch_size", 2
        )
        self.env.registry.clear_cache("templates")
        IrQweb = type(self.env["ir.qweb"])
        original = IrQweb._generate_code
        compiled = []

        def generate_code(records, template):
            if isinstance(template, etree._Element):  # an email's body
                compiled.append(etree.tostring(template))
            return original(records, template)

        with patch.object(IrQweb, "_generate_code", generate_code):
            self._run_cron(datetime(2025, 3, 13, 9, 0))
            # Odoo compiles a body twice: to check it for expressions reserved
            # to template editors, and to render it
            self.assertEqual(len(compiled), 2, "one body compiled for two batches")
            template = self.env.ref(
                "quote_process.mail_template_quote_followup_reminder"
            )
            template.body_html = template.body_html.replace(
                "Contact the customer", "Call the customer"
            )
            later = self._sent_quote()
            compiled.clear()
            self._run_cron(datetime(2025, 3, 13, 9, 0))
        self.assertEqual(len(compiled), 2, "the edited body compiled anew")
        self.assertIn(
            "Call the customer", self._mails_to(later, self.salesman).body_html
        )
        for order in orders:
            body = self._mails_to(order, self.salesman).body_html
            self.assertIn(order.name, body)
            for other in orders - order:
                self.assertNotIn(other.name, body)

    def test_emails_of_a_batch_queued_in_one_chunk(self):
        """Odoo renders and creates a template's emails by chunks of
        ``mail.batch_size`` (50), each chunk paying the same statements again:
        the reminder queues its batch in one chunk, unless the administrator
        set that size."""
        orders = self._sent_quote() | self._sent_quote() | self._sent_quote()
        MailTemplate = type(self.env["mail.template"])
        original = MailTemplate._generate_template
        chunks = []

        def generate_template(template, res_ids, *args, **kwargs):
            if template.model == "sale.order":
                chunks.append(len(res_ids))
            return original(template, res_ids, *args, **kwargs)

        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param("mail.batch_size", "2")
        now = datetime(2025, 3, 13, 9, 0)
        Order = self.env["sale.order"].sudo()
        with (
            freeze_time(now),
            patch.object(MailTemplate, "_generate_template", generate_template),
        ):
            savepoint = self.env.cr.savepoint()
            self.assertEqual(Order.browse(orders.ids)._quote_followup_send(now), 3)
            savepoint.close(rollback=True)
            self.env.invalidate_all()
            self.assertEqual(chunks, [2, 1], "the administrator's size is kept")
            chunks.clear()
            Param.set_param("mail.batch_size", False)
            self.assertEqual(Order.browse(orders.ids)._quote_followup_send(now), 3)
        self.assertEqual(chunks, [3], "one chunk for the whole batch")
        for order in orders:
            self.assertEqual(len(self._mails_to(order, self.salesman)), 1)
        # other parameters, and the size outside such a run, are Odoo's
        self.assertFalse(Param.get_param("mail.batch_size"))
        self.assertEqual(
            Param.with_context(**{MAIL_BATCH_SIZE: 300}).get_param("mail.batch_size"),
            "300",
        )
        self.assertEqual(
            Param.with_context(**{MAIL_BATCH_SIZE: 300}).get_param(
                "quote_process.none", "default"
            ),
            "default",
        )

    def test_queries_do_not_grow_with_the_batch(self):
        """Reminding 9 quotations costs the queries of reminding 3."""
        orders = self.env["sale.order"]
        for _index in range(13):
            orders |= self._sent_quote()
        now = datetime(2025, 3, 13, 9, 0)
        Order = self.env["sale.order"].sudo()
        counts = []
        with freeze_time(now):
            for group in (orders[:1], orders[1:4], orders[4:]):
                self.env.invalidate_all()
                start = self.env.cr.sql_log_count
                reminded = Order.browse(group.ids)._quote_followup_send(now)
                self.env.flush_all()
                counts.append(self.env.cr.sql_log_count - start)
                self.assertEqual(reminded, len(group))
        self.assertEqual(counts[1], counts[2], f"queries for 1, 3, 9: {counts}")

    def test_queries_do_not_grow_with_the_owners(self):
        """Reminding three salespeople costs the queries of reminding one;
        whoever gets a To-Do follows its quotation, as with any activity."""
        # all in one time zone: Odoo writes activities that differ in which
        # fields are set with one statement each
        self.salesman_all.tz = self.salesman.tz
        owners = self.salesman | self.salesman_all
        owners |= new_test_user(
            self.env,
            login="qp_third_owner",
            groups="sales_team.group_sale_salesman",
            tz="Europe/Brussels",
        )
        warm_up = [self._sent_quote()]
        one_owner = [self._sent_quote() for _owner in owners]
        three_owners = [self._sent_quote(user=owner) for owner in owners]
        for order, owner in zip(three_owners, owners, strict=True):
            self.assertIn(owner.partner_id, order.message_partner_ids)
        now = datetime(2025, 3, 13, 9, 0)
        Order = self.env["sale.order"].sudo()
        counts = []
        with freeze_time(now):
            for group in (warm_up, one_owner, three_owners):
                self.env.invalidate_all()
                start = self.env.cr.sql_log_count
                reminded = Order.browse([order.id for order in group])
                self.assertEqual(reminded._quote_followup_send(now), len(group))
                self.env.flush_all()
                counts.append(self.env.cr.sql_log_count - start)
        self.assertEqual(counts[1], counts[2], f"queries for 1 and 3 owners: {counts}")
        # a salesperson who stopped following their quotation follows it again
        order = self._sent_quote()
        order.message_unsubscribe(partner_ids=self.salesman.partner_id.ids)
        self._run_cron(now)
        self.assertTrue(self._todos(order, self.salesman))
        self.assertIn(self.salesman.partner_id, order.message_partner_ids)

    def test_no_backlog_flood_on_install(self):
        old = self._sent_quote()
        # as if sent before the addon was installed
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE sale_order SET quote_sent_date = NULL, last_followup_date = NULL,"
            " customer_response = NULL, response_deadline = NULL WHERE id = %s",
            [old.id],
        )
        self.env["sale.order"]._quote_followup_init_preexisting()
        self.assertTrue(old.quote_preexisting)
        self.assertEqual(old.quote_sent_date, old.date_order)
        self.assertEqual(old.customer_response, "pending")
        self.assertTrue(old.response_deadline)
        new = self._sent_quote()
        self._run_cron(datetime(2025, 4, 30, 9, 0))
        self.assertFalse(self._mails_to(old, self.salesman))
        self.assertEqual(old.reminder_count, 0)
        self.assertEqual(len(self._mails_to(new, self.salesman)), 1)
        self.assertTrue(old.followup_overdue, "still shown as overdue in the lists")

        # an admin opts in
        settings = Form(self.env["res.config.settings"].with_user(self.admin_user))
        settings.quote_remind_preexisting = True
        settings.save().execute()
        self._run_cron(datetime(2025, 5, 1, 9, 0))
        self.assertEqual(len(self._mails_to(old, self.salesman)), 1)
        self.assertEqual(len(self._mails_to(new, self.salesman)), 1)

    def test_followed_up_backlog_quote_is_reminded_again(self):
        old = self._sent_quote()
        self.env["sale.order"].browse(old.id).sudo().write({"quote_preexisting": True})
        with freeze_time("2025-04-01 09:00:00"):
            old.with_user(self.salesman).message_post(
                body="Reviving this one", message_type="comment"
            )
        self.assertFalse(old.quote_preexisting)
        self._run_cron(datetime(2025, 4, 11, 9, 0))
        self.assertEqual(old.reminder_count, 1)


@tagged("post_install", "-at_install")
class TestFollowupUi(TestFollowupCommon):
    def test_record_response_wizard(self):
        order = self._sent_quote()
        action = order.with_user(self.salesman).action_record_customer_response()
        self.assertEqual(action["res_model"], "quote.response.wizard")
        with freeze_time("2025-03-06 09:00:00"):
            wizard_form = Form(
                self.env["quote.response.wizard"]
                .with_user(self.salesman)
                .with_context(**action["context"])
            )
            wizard_form.customer_response = "negotiating"
            wizard_form.note = "<p>Wants 5% off for 100 units</p>"
            result = wizard_form.save().action_confirm()
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertEqual(order.customer_response, "negotiating")
        self.assertEqual(order.customer_response_date, datetime(2025, 3, 6, 9, 0))
        self.assertEqual(order.last_followup_date, datetime(2025, 3, 6, 9, 0))
        self.assertIn("5% off", order.message_ids[0].body)

        with freeze_time("2025-03-08 09:00:00"):
            wizard = (
                self.env["quote.response.wizard"]
                .with_user(self.salesman)
                .create({"order_ids": order.ids, "customer_response": "accepted"})
            )
            wizard.action_confirm()
        self.assertEqual(order.customer_response, "accepted")
        self.assertEqual(
            order.customer_response_date,
            datetime(2025, 3, 6, 9, 0),
            "the first response date is kept",
        )

    def test_declined_opens_lost_flow_when_available(self):
        order = self._sent_quote()
        wizard = (
            self.env["quote.response.wizard"]
            .with_user(self.salesman)
            .create({"order_ids": order.ids, "customer_response": "declined"})
        )
        result = wizard.action_confirm()
        self.assertEqual(order.customer_response, "declined")
        if hasattr(order, "action_mark_lost"):
            self.assertEqual(result.get("res_model"), "quote.lost.wizard")
        else:
            self.assertEqual(result["type"], "ir.actions.act_window_close")

    def test_wizard_respects_access_and_state(self):
        other_salesman = new_test_user(
            self.env,
            login="qp_other_salesman",
            name="Olga Other",
            groups="sales_team.group_sale_salesman",
        )
        order = self._sent_quote()
        with self.assertRaises(AccessError):
            self.env["quote.response.wizard"].with_user(other_salesman).create(
                {"order_ids": order.ids, "customer_response": "accepted"}
            ).action_confirm()
        order.with_user(self.salesman).action_confirm()
        with self.assertRaises(UserError):
            self.env["quote.response.wizard"].with_user(self.salesman).create(
                {"order_ids": order.ids, "customer_response": "declined"}
            ).action_confirm()

    def test_filters_and_days_silent(self):
        silent = self._sent_quote()
        recent = self._sent_quote(at=datetime(2025, 3, 10, 9, 0))
        answered = self._sent_quote()
        answered.with_user(self.salesman).write({"customer_response": "accepted"})
        ids = (silent | recent | answered).ids
        SaleOrder = self.env["sale.order"].with_user(self.salesman)
        with freeze_time("2025-03-14 09:00:00"):
            self.env.invalidate_all()
            self.assertEqual(silent.days_silent, 11)
            self.assertEqual(recent.days_silent, 4)
            self.assertTrue(silent.followup_overdue)
            self.assertFalse(recent.followup_overdue)
            self.assertTrue(silent.response_deadline_passed)
            self.assertFalse(recent.response_deadline_passed)
            base = [("id", "in", ids)]
            self.assertEqual(
                SaleOrder.search(base + [("followup_overdue", "=", True)]), silent
            )
            self.assertEqual(
                SaleOrder.search(base + [("followup_overdue", "=", False)]),
                recent | answered,
            )
            self.assertEqual(
                SaleOrder.search(base + [("response_deadline_passed", "=", True)]),
                silent,
            )
            self.assertEqual(
                SaleOrder.search(
                    base
                    + [("state", "=", "sent"), ("customer_response", "=", "pending")]
                ),
                silent | recent,
            )

    def test_views_load(self):
        order = self._sent_quote()
        form = Form(order.with_user(self.salesman))
        self.assertEqual(form.customer_response, "pending")
        views = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .get_views(
                [
                    (
                        self.env.ref("sale.view_quotation_tree_with_onboarding").id,
                        "list",
                    ),
                    (
                        self.env.ref(
                            "sale.sale_order_view_search_inherit_quotation"
                        ).id,
                        "search",
                    ),
                ]
            )
        )
        self.assertIn("followup_overdue", views["views"]["list"]["arch"])
        self.assertIn("response_deadline_passed", views["views"]["search"]["arch"])


@tagged("post_install", "-at_install")
class TestFollowupPortal(TestFollowupCommon, HttpCase):
    def test_customer_declines_on_portal(self):
        order = self._make_quote(require_signature=True)
        order.with_user(self.salesman).action_quotation_sent()
        self.assertEqual(order.customer_response, "pending")
        order._portal_ensure_token()
        self.authenticate(None, None)
        response = self.url_open(
            f"/my/orders/{order.id}/decline",
            data={
                "access_token": order.access_token,
                "decline_message": "Too expensive for us this year",
                "csrf_token": Request.csrf_token(self),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.customer_response, "declined")
        self.assertTrue(order.customer_response_date)
