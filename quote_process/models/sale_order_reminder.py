"""The follow-up reminder: what the scheduled action sends, to whom, once.

The follow-up itself (its fields, what counts as a follow-up, the customer's
response) is in ``sale_order_followup.py``.
"""

import logging
from datetime import timedelta

from markupsafe import Markup
from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from .ir_config_parameter import MAIL_BATCH_SIZE
from .ir_qweb import QWEB_COMPILE_ONCE

_logger = logging.getLogger(__name__)


def browse_xmlid(model, xmlid):
    """The record of ``model`` that ``xmlid`` names, as ``env.ref`` gives it
    but without its query to check that the record exists (the external id of
    a record is deleted with it): the reminder takes its templates again in
    every batch."""
    return model.browse(
        model.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=True)
    )


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _quote_followup_candidate_domain(self, now):
        """Quotations that may need a reminder or an escalation at ``now``.

        Broad on purpose by one day (time zones): the exact check, in each
        salesperson's time zone, is ``_quote_followup_due``."""
        company_domains = []
        for company in self.env["res.company"].search([]):
            cutoff = now - timedelta(days=company.quote_followup_days - 1, hours=-2)
            escalation_cutoff = now - timedelta(
                days=company.quote_escalation_days - 1, hours=-2
            )
            domain = (
                Domain("company_id", "=", company.id)
                & self._quote_last_action_domain("<=", cutoff)
                & self._quote_followup_not_handled_domain(escalation_cutoff)
            )
            if not company.quote_remind_preexisting:
                domain &= Domain("quote_preexisting", "=", False)
            company_domains.append(domain)
        if not company_domains:
            return Domain.FALSE
        domain = (
            Domain("state", "=", "sent")
            & Domain("quote_sent_date", "!=", False)
            & Domain("customer_response", "in", self._QUOTE_FOLLOWUP_OPEN_RESPONSES)
            & Domain("lost_reason_id", "=", False)
            & Domain.OR(company_domains)
        )
        return domain

    @api.model
    def _quote_followup_not_handled_domain(self, escalation_cutoff):
        """Quotations not yet reminded in their current silence, or reminded
        before ``escalation_cutoff`` and not yet escalated in it: those already
        handled are left out of the search, so that a run that carries on
        through a backlog (the scheduled action runs again while quotations
        remain) does not go through them again."""

        def to_sql(model, alias, query):
            def column(fname):
                return model._field_to_sql(alias, fname, query)

            anchor = SQL(
                "COALESCE(%s, %s)",
                column("last_followup_date"),
                column("quote_sent_date"),
            )
            return SQL(
                "(%(reminded)s IS NULL OR %(reminded)s < %(anchor)s"
                " OR ((%(escalated)s IS NULL OR %(escalated)s < %(anchor)s)"
                " AND %(reminded)s <= %(cutoff)s))",
                reminded=column("last_reminder_date"),
                escalated=column("last_escalation_date"),
                anchor=anchor,
                cutoff=escalation_cutoff,
            )

        return Domain.custom(to_sql=to_sql)

    def _quote_followup_due(self, now):
        """Split these quotations by what is due at ``now``.

        :return: (remind, remind_leader, escalate) recordsets: quotations whose
            salesperson is reminded, whose team leader is reminded directly
            (archived or missing salesperson), whose team leader is told after
            the escalation days."""
        remind = remind_leader = escalate = self.browse()
        orphans = []
        for order in self:
            if (
                order.state != "sent"
                or not order.quote_sent_date
                or order.customer_response not in self._QUOTE_FOLLOWUP_OPEN_RESPONSES
                or (
                    order.quote_preexisting
                    and not order.company_id.quote_remind_preexisting
                )
                or order.lost_reason_id
            ):
                continue
            company = order.company_id
            tz = order._quote_followup_tz()
            anchor = order._quote_followup_anchor()
            reminded = order.last_reminder_date and order.last_reminder_date >= anchor
            if not reminded:
                if (
                    self._quote_followup_days_between(anchor, now, tz)
                    < company.quote_followup_days
                ):
                    continue
                owner_active = order.user_id and order.user_id.active
                if owner_active:
                    remind |= order
                elif order._quote_followup_recipient():
                    remind_leader |= order
                else:
                    orphans.append(order.name)
                continue
            escalated = (
                order.last_escalation_date and order.last_escalation_date >= anchor
            )
            if escalated or (
                self._quote_followup_days_between(order.last_reminder_date, now, tz)
                < company.quote_escalation_days
            ):
                continue
            leader = order.team_id.user_id
            if leader and leader.active:
                escalate |= order
        if orphans:
            _logger.warning(
                "Follow-up: no active salesperson nor sales team leader to remind "
                "about %s quotation(s): %s",
                len(orphans),
                ", ".join(orphans[:20]),
            )
        return remind, remind_leader, escalate

    def _quote_followup_send(self, now):
        """Queue the reminders and escalations due on these (locked)
        quotations, and record them in the same transaction.

        :return: number of quotations reminded or escalated"""
        remind, remind_leader, escalate = self._quote_followup_due(now)
        if not (remind or remind_leader or escalate):
            return 0
        to_leader = remind_leader | escalate
        # each email's body compiled once (not once per quotation), and one
        # chunk of emails for the batch
        templates = self.env["mail.template"].with_context(
            **{QWEB_COMPILE_ONCE: True, MAIL_BATCH_SIZE: len(self)}
        )
        if remind:
            browse_xmlid(
                templates, "quote_process.mail_template_quote_followup_reminder"
            ).send_mail_batch(remind.ids, force_send=False)
        if to_leader:
            browse_xmlid(
                templates, "quote_process.mail_template_quote_followup_escalation"
            ).send_mail_batch(to_leader.ids, force_send=False)
        (remind | remind_leader)._quote_followup_schedule_activities(now)
        reminded = (remind | remind_leader).grouped("reminder_count")
        for count, orders in reminded.items():
            orders.write({"reminder_count": count + 1, "last_reminder_date": now})
        if to_leader:
            to_leader.write({"last_escalation_date": now})
        return len(remind | remind_leader | escalate)

    def _quote_followup_schedule_activities(self, now):
        """A To-Do for whoever is reminded, unless one from an earlier reminder
        is still open on the quotation for them."""
        todo = browse_xmlid(
            self.env["mail.activity.type"], "mail.mail_activity_data_todo"
        )
        recipients = {order: order._quote_followup_recipient() for order in self}
        existing = {
            (activity.res_id, activity.user_id.id)
            for activity in self.env["mail.activity"].search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("activity_type_id", "=", todo.id),
                    ("automated", "=", True),
                ]
            )
        }
        model_id = self.env["ir.model"]._get_id(self._name)
        vals_list = []
        for order, user in recipients.items():
            if not user or (order.id, user.id) in existing:
                continue
            tz = order._quote_followup_tz()
            order_lang = order.with_context(lang=user.lang or self.env.lang)
            days = self._quote_followup_days_between(
                order._quote_followup_anchor(), now, tz
            )
            vals_list.append(
                {
                    "res_model_id": model_id,
                    # given with its id, the model is not read again
                    "res_model": self._name,
                    "res_id": order.id,
                    "activity_type_id": todo.id,
                    "user_id": user.id,
                    "automated": True,
                    "date_deadline": self._quote_followup_local_date(now, tz),
                    "summary": order_lang.env._("Follow up with the customer"),
                    "note": Markup("<p>%s</p>")
                    % order_lang.env._(
                        "No follow-up on this quotation for %(days)s days. Contact "
                        "%(customer)s, then record their response.",
                        days=days,
                        customer=order.partner_id.display_name,
                    ),
                }
            )
        if vals_list:
            # who already follows their quotation, for the whole batch at once:
            # creating an activity subscribes its user to the document, one
            # person after the other (see message_subscribe below)
            followers = self.env["mail.followers"].search_fetch(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", [vals["res_id"] for vals in vals_list]),
                    (
                        "partner_id",
                        "in",
                        self.env["res.users"]
                        .browse([vals["user_id"] for vals in vals_list])
                        .partner_id.ids,
                    ),
                ],
                ["res_id", "partner_id"],
            )
            self.env["mail.activity"].with_context(
                mail_activity_quick_update=True,
                quote_followers=frozenset(
                    (follower.res_id, follower.partner_id.id) for follower in followers
                ),
            ).create(vals_list)

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        """Leave out the quotations these partners are known to follow already
        (``quote_followers``: pairs of quotation and partner ids, read by the
        reminder for its batch); the others are subscribed as always."""
        following = self.env.context.get("quote_followers")
        if following and partner_ids and not subtype_ids:
            self = self.filtered(
                lambda order: any(
                    (order.id, partner_id) not in following
                    for partner_id in partner_ids
                )
            )
        return super().message_subscribe(partner_ids, subtype_ids)

    def _quote_followup_lock(self):
        """Lock these quotations against concurrent runs, skipping the rows
        another run holds.

        The lock is the first statement of a fresh transaction. When another
        run commits some of these rows while the lock is taken, PostgreSQL
        refuses it (repeatable read): like the workers of ``ir.cron``, the
        transaction is rolled back, which loses nothing, and the lock is taken
        once more on a snapshot that sees what that run committed.

        :return: the quotations locked"""
        query = SQL(
            "SELECT id FROM sale_order WHERE id IN %s FOR NO KEY UPDATE SKIP LOCKED",
            tuple(self.ids),
        )
        for _attempt in range(2):
            try:
                self.env.cr.execute(query, log_exceptions=False)
            except TransactionRollbackError:
                self.env.cr.rollback()
                continue
            locked = {order_id for (order_id,) in self.env.cr.fetchall()}
            return self.browse([i for i in self.ids if i in locked])
        _logger.info(
            "Follow-up: %s quotations are being reminded by another run, skipped",
            len(self),
        )
        return self.browse()

    def _quote_followup_process_batch(self, now):
        """Remind on a batch of locked quotations; one failing quotation does
        not stop the others and is not recorded as reminded.

        :return: number of quotations reminded or escalated"""
        try:
            with self.env.cr.savepoint():
                return self._quote_followup_send(now)
        except Exception:  # retried one by one below
            _logger.info(
                "Follow-up: batch of %s quotations failed, retrying one by one",
                len(self),
            )
        done = 0
        for order_id in self.ids:
            order = self.browse(order_id)
            try:
                with self.env.cr.savepoint():
                    done += order._quote_followup_send(now)
            except Exception:  # one quotation must not stop the others
                _logger.exception(
                    "Follow-up: could not remind about quotation id %s; it will be "
                    "retried on the next run",
                    order_id,
                )
        return done

    # ------------------------------------------------------------------
    # Scheduled action
    # ------------------------------------------------------------------

    @api.model
    def _cron_remind_overdue_quotes(self, batch_size=None):
        """Scheduled action: remind salespeople of the sent quotations nobody
        followed up, then their team leader.

        Each reminder goes out once per silence: it is recorded in the same
        transaction as its queued email, on rows locked against concurrent
        runs, batch after batch."""
        orders_sudo = self.sudo()
        if not batch_size:
            batch_size = int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("quote_process.followup_batch_size", 100)
            )
        now = fields.Datetime.now()
        ids = orders_sudo.search(
            orders_sudo._quote_followup_candidate_domain(now), order="id"
        ).ids
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(ids))
        reminded = 0
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            # the lock is the first statement of a fresh transaction: rows another
            # run holds are skipped, rows it committed are seen as reminded
            locked = orders_sudo.browse(chunk)._quote_followup_lock()
            self.env.invalidate_all()
            if locked:
                reminded += locked._quote_followup_process_batch(now)
            time_left = cron._commit_progress(
                len(chunk), remaining=len(ids) - start - len(chunk)
            )
            if not time_left:
                break
        _logger.info("Follow-up: %s quotations reminded or escalated", reminded)
        return reminded
