import logging
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # customer responses that still call for a follow-up by the salesperson
    _QUOTE_FOLLOWUP_OPEN_RESPONSES = ("pending", "negotiating")
    # writes that send, confirm or sign a quotation and nothing else: their
    # follow-up values go with them
    _QUOTE_FOLLOWUP_MERGEABLE_WRITES = frozenset(
        {"state", "date_order", "signature", "signed_by", "signed_on"}
    )
    # fields kept by Odoo itself: only the system or a sales manager may set them
    _QUOTE_FOLLOWUP_SYSTEM_FIELDS = frozenset(
        {
            "quote_sent_date",
            "last_followup_date",
            "customer_response_date",
            "reminder_count",
            "last_reminder_date",
            "last_escalation_date",
            "quote_preexisting",
        }
    )

    quote_sent_date = fields.Datetime(
        string="Quote Sent On",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="When the quotation was first sent to the customer: by email, marked as "
        "sent, or through the customer portal. Set once; sending again does not "
        "change it.",
    )
    response_deadline = fields.Date(
        string="Response Deadline",
        copy=False,
        tracking=True,
        help="Date by which the customer is expected to answer: the day the quotation "
        "was first sent plus the company's response days. Move it when the "
        "customer asks for more time.",
    )
    last_followup_date = fields.Datetime(
        string="Last Follow-up",
        readonly=True,
        copy=False,
        help="Last time a person acted on the sent quotation: its first sending, a "
        "message or a note, an activity marked as done, a change of the customer "
        "response, or a reply from the customer. Automatic messages (tracking, "
        "reminders, approvals, system notes) do not count.",
    )
    customer_response = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("negotiating", "Negotiating"),
            ("accepted", "Accepted"),
            ("declined", "Declined"),
        ],
        string="Customer Response",
        copy=False,
        tracking=True,
        index=True,
        help="What the customer answered to the quotation. Pending when it is first "
        "sent; record the answer with the Record Response button. A confirmed "
        "or signed quotation counts as accepted.",
    )
    customer_response_date = fields.Datetime(
        string="Customer Responded On",
        readonly=True,
        copy=False,
        help="When the customer first gave a response other than pending.",
    )
    reminder_count = fields.Integer(
        string="Reminders Sent",
        readonly=True,
        copy=False,
        default=0,
        help="How many times the salesperson (or the team leader) was reminded that "
        "this quotation had no follow-up.",
    )
    last_reminder_date = fields.Datetime(
        string="Last Reminder",
        readonly=True,
        copy=False,
        help="When the last follow-up reminder about this quotation was queued.",
    )
    last_escalation_date = fields.Datetime(
        string="Escalated On",
        readonly=True,
        copy=False,
        help="When the sales team leader was last told that this quotation had no "
        "follow-up.",
    )
    quote_preexisting = fields.Boolean(
        string="Sent Before Installation",
        readonly=True,
        copy=False,
        help="The quotation was already sent when Quote Process was installed. Such "
        "quotations get no reminder unless the company setting 'Remind quotes "
        "sent before installation' is on, or until someone follows them up.",
    )
    days_silent = fields.Integer(
        string="Days Without Follow-up",
        compute="_compute_quote_followup_status",
        help="Days since the last follow-up (or since the quotation was sent), "
        "counted in the salesperson's time zone.",
    )
    followup_overdue = fields.Boolean(
        string="Follow-up Overdue",
        compute="_compute_quote_followup_status",
        search="_search_followup_overdue",
        help="The sent quotation still awaits an answer and nobody has followed it "
        "up for at least the company's follow-up days.",
    )
    response_deadline_passed = fields.Boolean(
        string="Response Deadline Passed",
        compute="_compute_quote_followup_status",
        search="_search_response_deadline_passed",
        help="The customer has not answered the sent quotation and its response "
        "deadline is over.",
    )

    _quote_followup_open_idx = models.Index(
        "(company_id, last_followup_date) WHERE state = 'sent' "
        "AND customer_response IN ('pending', 'negotiating')"
    )

    # ------------------------------------------------------------------
    # Computes and searches
    # ------------------------------------------------------------------

    @api.depends(
        "state",
        "quote_sent_date",
        "last_followup_date",
        "customer_response",
        "response_deadline",
        "user_id",
        "team_id",
        "company_id",
    )
    def _compute_quote_followup_status(self):
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        for order in self:
            if order.state != "sent" or not order.quote_sent_date:
                order.days_silent = 0
                order.followup_overdue = False
                order.response_deadline_passed = False
                continue
            tz = order._quote_followup_tz()
            days = order._quote_followup_days_between(
                order._quote_followup_anchor(), now, tz
            )
            is_open = order.customer_response in self._QUOTE_FOLLOWUP_OPEN_RESPONSES
            order.days_silent = days
            order.followup_overdue = (
                is_open and days >= order.company_id.quote_followup_days
            )
            order.response_deadline_passed = bool(
                order.customer_response == "pending"
                and order.response_deadline
                and order.response_deadline < today
            )

    def _search_followup_overdue(self, operator, value):
        positive = self._quote_followup_positive_search(operator, value)
        if positive is None:
            return NotImplemented
        tz = self._quote_followup_user_tz()
        today = fields.Datetime.now().replace(tzinfo=pytz.utc).astimezone(tz).date()
        company_domains = []
        for company in self.env.companies:
            # silent for N days or more <=> last action before the start of the
            # local day N - 1 days ago
            boundary_day = today - timedelta(days=company.quote_followup_days - 1)
            boundary = (
                tz.localize(datetime.combine(boundary_day, time.min))
                .astimezone(pytz.utc)
                .replace(tzinfo=None)
            )
            company_domains.append(
                Domain("company_id", "=", company.id)
                & self._quote_last_action_domain("<", boundary)
            )
        domain = (
            Domain("state", "=", "sent")
            & Domain("quote_sent_date", "!=", False)
            & Domain("customer_response", "in", self._QUOTE_FOLLOWUP_OPEN_RESPONSES)
            & Domain.OR(company_domains)
        )
        return domain if positive else ~domain

    def _search_response_deadline_passed(self, operator, value):
        positive = self._quote_followup_positive_search(operator, value)
        if positive is None:
            return NotImplemented
        domain = Domain(
            [
                ("state", "=", "sent"),
                ("customer_response", "=", "pending"),
                ("response_deadline", "<", fields.Date.context_today(self)),
            ]
        )
        return domain if positive else ~domain

    # ------------------------------------------------------------------
    # Mail thread
    # ------------------------------------------------------------------

    def _message_post_after_hook(self, message, msg_values):
        res = super()._message_post_after_hook(message, msg_values)
        if self._quote_followup_counts_message(message, msg_values):
            self._quote_followup_touch()
        return res

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_record_customer_response(self):
        """Open the dialog recording the customer's answer to the quotation."""
        self.check_access("write")
        return {
            "name": self.env._("Record Customer Response"),
            "type": "ir.actions.act_window",
            "res_model": "quote.response.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_order_ids": self.ids},
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _quote_followup_positive_search(self, operator, value):
        """Tell whether a boolean search asks for True (positive) or False."""
        if operator not in ("in", "not in"):
            return None
        values = {bool(v) for v in value}
        if len(values) != 1:
            return None
        positive = values == {True}
        return positive if operator == "in" else not positive

    def _quote_followup_recipient(self):
        """Who hears about this quote's silence: its salesperson, or the sales
        team leader when the salesperson is archived or missing."""
        self.ensure_one()
        if self.user_id and self.user_id.active:
            return self.user_id
        leader = self.team_id.user_id
        return leader if leader and leader.active else self.env["res.users"]

    def _quote_followup_tz(self):
        """Time zone the days of this quote are counted in: its salesperson's
        (or the team leader's when reminders go to them), else the company's."""
        self.ensure_one()
        recipient = self._quote_followup_recipient()
        for tz_name in (
            recipient.tz,
            self.user_id.tz,
            self.company_id.partner_id.tz,
        ):
            if tz_name:
                try:
                    return pytz.timezone(tz_name)
                except pytz.UnknownTimeZoneError:
                    continue
        return pytz.utc

    def _quote_followup_user_tz(self):
        tz_name = self.env.context.get("tz") or self.env.user.tz
        try:
            return pytz.timezone(tz_name) if tz_name else pytz.utc
        except pytz.UnknownTimeZoneError:
            return pytz.utc

    @api.model
    def _quote_followup_local_date(self, dt, tz):
        return pytz.utc.localize(dt).astimezone(tz).date()

    @api.model
    def _quote_followup_days_between(self, start, end, tz):
        """Calendar days from ``start`` to ``end`` (UTC datetimes) in ``tz``."""
        if not start:
            return 0
        return (
            self._quote_followup_local_date(end, tz)
            - self._quote_followup_local_date(start, tz)
        ).days

    def _quote_followup_anchor(self):
        """Start of the current silence: the last follow-up, else the sending."""
        self.ensure_one()
        return self.last_followup_date or self.quote_sent_date

    @api.model
    def _quote_last_action_domain(self, operator, moment):
        """Quotations whose silence (``_quote_followup_anchor``) started
        ``operator`` ``moment``: ``"<"`` for before it, ``"<="`` for up to it."""
        return Domain("last_followup_date", operator, moment) | (
            Domain("last_followup_date", "=", False)
            & Domain("quote_sent_date", operator, moment)
        )

    def _get_quote_followup_url(self):
        """Link to the quotation in the back end, for the reminder emails."""
        self.ensure_one()
        return f"{self.get_base_url()}/odoo/sales/{self.id}"

    def _quote_followup_check_system_fields(self, vals):
        """Follow-up dates and counters are kept by Odoo: a salesperson cannot
        set them over RPC or import to silence the reminders."""
        touched = self._QUOTE_FOLLOWUP_SYSTEM_FIELDS.intersection(vals)
        if (
            touched
            and not self.env.su
            and not self.env.user.has_group("sales_team.group_sale_manager")
        ):
            raise AccessError(
                self.env._(
                    "Odoo keeps the follow-up fields of quotations (%(fields)s) "
                    "itself. Post a message, mark an activity done or record the "
                    "customer response instead, or ask a sales manager to correct "
                    "them.",
                    fields=", ".join(
                        self._fields[name].get_description(self.env)["string"]
                        for name in sorted(touched)
                    ),
                )
            )

    def _quote_followup_after_create(self):
        sent = self.filtered(lambda o: o.state == "sent" and not o.quote_sent_date)
        if sent:
            sent._quote_followup_mark_sent()
        answered = self.filtered(
            lambda o: (
                o.customer_response not in (False, "pending")
                and not o.customer_response_date
            )
        )
        if answered:
            answered._quote_followup_response_changed()

    def _quote_followup_before_write(self, vals):
        """The quotes whose follow-up a write changes, found before it, and
        the values the write takes along.

        Sending a quotation for the first time, or confirming or signing it,
        brings follow-up values (the sent date, the pending or accepted
        response). When every quotation of the write gets the same ones, they
        go with the write itself: one write and one tracking message instead
        of a write after it. Returns the values to write and the quotes to
        follow up after the write."""
        newly_sent = accepted = response_changed = self.browse()
        if vals.get("state") == "sent":
            newly_sent = self.filtered(lambda o: not o.quote_sent_date)
        if "customer_response" in vals:
            response_changed = self.filtered(
                lambda o: o.customer_response != vals["customer_response"]
            )
        elif vals.get("state") == "sale" or vals.get("signature"):
            # a confirmed or signed quotation is the customer's acceptance
            accepted = self.filtered(
                lambda o: (
                    o.quote_sent_date
                    and o.customer_response in self._QUOTE_FOLLOWUP_OPEN_RESPONSES
                )
            )
        changes = newly_sent, response_changed, accepted
        if (
            not self
            or not set(vals) <= self._QUOTE_FOLLOWUP_MERGEABLE_WRITES
            or (newly_sent or accepted) != self
        ):
            return vals, changes
        if newly_sent:
            values = [order._quote_followup_sent_values() for order in self]
        else:
            values = [order._quote_followup_accepted_values(vals) for order in self]
        if any(value != values[0] for value in values):
            return vals, changes
        return {**vals, **values[0]}, (self.browse(),) * 3

    def _quote_followup_after_write(self, changes):
        newly_sent, response_changed, accepted = changes
        if newly_sent:
            newly_sent._quote_followup_mark_sent()
        if response_changed:
            response_changed._quote_followup_response_changed()
        if accepted:
            accepted.sudo().write({"customer_response": "accepted"})

    def _quote_followup_mark_sent(self):
        """First sending: record the date, the response deadline, and await the
        customer's response. Called after the sending itself was allowed."""
        for order in self:
            order.sudo().write(order._quote_followup_sent_values())

    def _quote_followup_sent_values(self):
        """The follow-up values of a first sending."""
        self.ensure_one()
        now = fields.Datetime.now()
        vals = {"quote_sent_date": now, "last_followup_date": now}
        if not self.response_deadline:
            # Time zones are no secret: read without record rules, and only
            # the fields needed, not every column of the people and the company
            # (which sending does not read otherwise).
            tz = self.sudo().with_context(prefetch_fields=False)._quote_followup_tz()
            vals["response_deadline"] = self._quote_followup_local_date(
                now, tz
            ) + timedelta(days=self.company_id.quote_response_days)
        if not self.customer_response:
            vals["customer_response"] = "pending"
        return vals

    def _quote_followup_accepted_values(self, vals):
        """The follow-up values of an acceptance written with ``vals``: the
        accepted response and what recording it brings along."""
        self.ensure_one()
        return {
            "customer_response": "accepted",
            **self._quote_followup_response_values(
                "accepted", fields.Datetime.now(), vals.get("state")
            ),
        }

    def _quote_followup_response_values(self, response, now, state=None):
        """What recording the customer's response ``response`` brings along on
        this quotation (``state``: its state once written, if the write
        changes it): the response date, the first time the response is other
        than pending, and a follow-up (``_quote_followup_touch_values``)."""
        self.ensure_one()
        values = {}
        if response and response != "pending" and not self.customer_response_date:
            values["customer_response_date"] = now
        values.update(self._quote_followup_touch_values(now, state))
        return values

    def _quote_followup_touch_values(self, now, state=None):
        """The values of a person acting on this quotation: the silence of a
        quotation sent, and still sent (``state``: its state once written),
        ends now."""
        self.ensure_one()
        if self.quote_sent_date and (state or self.state) == "sent":
            return {"last_followup_date": now, "quote_preexisting": False}
        return {}

    def _quote_followup_write_values(self, get_values):
        """Write on each quotation the values ``get_values(quotation)`` gives,
        as superuser, one write for the quotations that get the same ones."""
        groups = self.grouped(lambda order: frozenset(get_values(order).items()))
        for values, orders in groups.items():
            if values:
                orders.sudo().write(dict(values))

    def _quote_followup_response_changed(self):
        """The customer response changed: what recording it brings along
        (``_quote_followup_response_values``)."""
        now = fields.Datetime.now()
        self._quote_followup_write_values(
            lambda order: order._quote_followup_response_values(
                order.customer_response, now
            )
        )

    def _quote_followup_touch(self):
        """A person acted on these quotations: their silence ends now.

        Callers have already been allowed to act on the records (post on
        them, close their activity, write them)."""
        now = fields.Datetime.now()
        self._quote_followup_write_values(
            lambda order: order._quote_followup_touch_values(now)
        )

    def _quote_followup_counts_message(self, message, msg_values):
        """Whether a posted message is a human follow-up.

        Counts: a message or a note written by a person (chatter, portal,
        email composer), an incoming email, an activity marked as done by a
        person. Never counts: system notifications (tracking, approvals, state
        changes), automated targeted notifications, out-of-office replies, and
        anything authored by OdooBot (scheduled actions, automation)."""
        message_type = msg_values.get("message_type") or message.message_type
        author_id = msg_values.get("author_id", message.author_id.id)
        root_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "base.partner_root", raise_if_not_found=False
        )
        if author_id and author_id == root_id:
            return False
        if message_type in ("comment", "email"):
            return True
        activities_subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "mail.mt_activities", raise_if_not_found=False
        )
        approval_type_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "quote_process.mail_activity_quote_approval", raise_if_not_found=False
        )
        return bool(
            message_type == "notification"
            and author_id
            and msg_values.get("mail_activity_type_id")
            and msg_values.get("mail_activity_type_id") != approval_type_id
            and msg_values.get("subtype_id") == activities_subtype_id
        )

    @api.model
    def _quote_followup_init_preexisting(self):
        """On installation, give the quotations already sent a sent date, a
        deadline and a pending response, and flag them as pre-existing so that
        the reminder does not flood their salespeople."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE sale_order so
               SET quote_sent_date = so.date_order,
                   last_followup_date = so.date_order,
                   response_deadline = so.date_order::date
                                       + COALESCE(c.quote_response_days, 0),
                   customer_response = COALESCE(so.customer_response, 'pending'),
                   quote_preexisting = TRUE
              FROM res_company c
             WHERE c.id = so.company_id
               AND so.state = 'sent'
               AND so.quote_sent_date IS NULL
            """
        )
        _logger.info(
            "Follow-up: %s quotations sent before installation", self.env.cr.rowcount
        )
        # their last human message, if any, is their last follow-up
        self.env.cr.execute(
            """
            UPDATE sale_order so
               SET last_followup_date = msg.last_date
              FROM (
                    SELECT m.res_id, MAX(m.date) AS last_date
                      FROM mail_message m
                     WHERE m.model = 'sale.order'
                       AND m.message_type IN ('comment', 'email')
                       AND m.author_id IS DISTINCT FROM %s
                       AND m.res_id IN (SELECT id FROM sale_order WHERE quote_preexisting)
                  GROUP BY m.res_id
                   ) msg
             WHERE msg.res_id = so.id
               AND msg.last_date > so.last_followup_date
            """,
            [self.env.ref("base.partner_root").id],
        )
        self.invalidate_model()
