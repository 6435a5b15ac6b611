"""Versions of quotations: what the customer received, recorded by every way
of sending (email composer, Mark as Sent, the customer portal, RPC), and the
version the customer signed or that was confirmed."""

import json
from functools import partial

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools.marks import marking
from .sale_order import QUOTATION_STATES

json_dumps = partial(json.dumps, ensure_ascii=False)

# Key of the transaction's cache (not of the context, which a client sets)
# listing the quotations whose sending records its version itself.
DEFERRED_KEY = "quote_process.version_deferred"
# The columns of sale_order_line a version reads.
LINE_COLUMNS = [
    "order_id",
    "sequence",
    "display_type",
    "name",
    "product_id",
    "product_uom_qty",
    "product_uom_id",
    "price_unit",
    "discount",
    "engine_price_unit",
    "deviation_percent",
    "price_subtotal",
]


class SaleOrder(models.Model):
    _inherit = "sale.order"

    version_ids = fields.One2many(
        comodel_name="quote.version",
        inverse_name="order_id",
        string="Versions",
        readonly=True,
        help="What the customer received each time the quotation was sent.",
    )
    version_count = fields.Integer(
        string="Versions Sent",
        compute="_compute_version_count",
        help="Versions of the quotation sent to the customer: the rounds of "
        "negotiation.",
    )
    accepted_version_id = fields.Many2one(
        comodel_name="quote.version",
        string="Accepted Version",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The version the customer signed, or the one confirmed.",
    )
    current_version = fields.Integer(
        string="Version",
        compute="_compute_current_version",
        help="Number of the version the customer sees: the last one sent, or "
        "the next one when the quotation changed since.",
    )

    @api.depends("version_ids")
    def _compute_version_count(self):
        counts = dict(
            self.env["quote.version"]._read_group(
                [("order_id", "in", self.ids)], ["order_id"], ["__count"]
            )
        )
        for order in self:
            order.version_count = counts.get(order._origin, 0)

    @api.depends(
        "state",
        "version_ids",
        "accepted_version_id",
        "currency_id",
        "amount_untaxed",
        "amount_total",
        "payment_term_id",
        "validity_date",
        "order_line.display_type",
        "order_line.name",
        "order_line.product_id",
        "order_line.product_uom_qty",
        "order_line.product_uom_id",
        "order_line.price_unit",
        "order_line.discount",
        "order_line.price_subtotal",
    )
    def _compute_current_version(self):
        for order in self:
            order.current_version = order._quote_version_number()

    # ------------------------------------------------------------------
    # CRUD steps (called by sale_order.py)
    # ------------------------------------------------------------------

    def _quote_version_check_fields(self, vals):
        """Versions are recorded by the sending only: no client sets them."""
        if not self.env.su and {"version_ids", "accepted_version_id"} & set(vals):
            raise AccessError(
                self.env._(
                    "Versions are recorded when the quotation is sent, and the "
                    "accepted version when the customer signs or the order is "
                    "confirmed: they cannot be set by hand."
                )
            )

    def _quote_version_after_create(self):
        self.filtered(lambda order: order.state == "sent")._quote_version_record(
            "other"
        )

    def _quote_version_before_write(self, vals):
        """The quotations this write sends (draft to sent)."""
        if vals.get("state") != "sent":
            return self.browse()
        return self.filtered(lambda order: order.state == "draft")

    def _quote_version_after_write(self, vals, sending):
        if sending:
            deferred = self.env.cr.cache.get(DEFERRED_KEY, set())
            sending.filtered(
                lambda order: order.id not in deferred
            )._quote_version_record("other")
        if vals.get("signature"):
            for order in self.filtered(lambda o: o.state in QUOTATION_STATES):
                version = order._quote_version_record("portal", notify_identical=False)
                order.sudo().accepted_version_id = version
        if vals.get("state") == "draft":
            self.filtered("accepted_version_id").sudo().accepted_version_id = False

    @api.ondelete(at_uninstall=False)
    def _unlink_except_versions(self):
        if self.env.is_admin():
            return
        if self.filtered("version_ids"):
            raise UserError(
                self.env._(
                    "This quotation was sent to the customer: its versions are "
                    "kept. Cancel it, or ask an administrator to delete it."
                )
            )

    # ------------------------------------------------------------------
    # Sending paths
    # ------------------------------------------------------------------

    def action_quotation_sent(self):
        with self._quote_version_deferred():
            res = super().action_quotation_sent()
        self._quote_version_record("mark_sent")
        return res

    def message_post(self, **kwargs):
        # Sending with the quotation's email template: Odoo marks the quotation
        # sent while posting; its version gets the PDF of the email. The
        # chatter line comes before the email, which stays the last message.
        if (
            len(self) != 1
            or not self.env.context.get("mark_so_as_sent")
            or self.state not in QUOTATION_STATES
        ):
            return super().message_post(**kwargs)
        values = self._quote_version_values()
        last = self.version_ids[:1]
        if last and last.content_hash == values["content_hash"]:
            self._quote_version_post_identical(last, "email")
            values = None
        else:
            self._quote_version_post(values, "email", last)
        with self._quote_version_deferred():
            message = super().message_post(**kwargs)
        if values:
            self._quote_version_create(
                values,
                "email",
                attachment=self._quote_version_document(message.attachment_ids),
            )
        return message

    def _message_mail_after_hook(self, mails):
        # Sending several quotations at once (the composer in mass mail mode,
        # from the list): Odoo leaves them as they are, but a quotation whose
        # email carries its document reached the customer, and that document
        # is kept with its version.
        res = super()._message_mail_after_hook(mails)
        for order in self.filtered(lambda o: o.state in QUOTATION_STATES):
            document = order._quote_version_document(
                mails.filtered(
                    lambda m, order=order: (
                        m.model == order._name and m.res_id == order.id
                    )
                ).attachment_ids
            )
            if document:
                order._quote_version_record("email", attachment=document)
        return res

    def _action_confirm(self):
        res = super()._action_confirm()
        for order in self.filtered(lambda o: not o.accepted_version_id):
            version = order._quote_version_record(
                "confirmation", notify_identical=False
            )
            order.sudo().accepted_version_id = version
        return res

    # ------------------------------------------------------------------
    # Versions
    # ------------------------------------------------------------------

    def _quote_version_deferred(self):
        """While the caller sends these quotations, writing their state does
        not record a version: the caller records it, knowing the channel."""
        return marking(self.env.cr.cache, DEFERRED_KEY, self.ids)

    def _quote_version_document(self, attachments):
        """The quotation's document among the attachments of its email: a
        PDF, the one named after the quotation first."""
        self.ensure_one()
        pdf = attachments.filtered(
            lambda a: (
                a.mimetype == "application/pdf"
                or (a.name or "").lower().endswith(".pdf")
            )
        ) or attachments.filtered(
            # a test database renders reports as HTML
            lambda a: self.name in (a.name or "")
        )
        return pdf.sorted(lambda a: self.name not in (a.name or ""))[:1]

    def _quote_version_lines_sql(self):
        """The query of the lines as the customer sees them, in order, sections
        and notes included, with the engine price and deviation of each: a
        JSON list built by PostgreSQL, stored as it is by a new version
        (a quote may have thousands of lines) and compared with the last
        version."""
        self.ensure_one()
        self.env["sale.order.line"].flush_model(LINE_COLUMNS)
        self.env.cr.execute(
            SQL(
                "SELECT array_agg(DISTINCT product_id), "
                "array_agg(DISTINCT product_uom_id) FROM sale_order_line "
                "WHERE order_id = %s",
                self.id,
            )
        )
        product_ids, uom_ids = self.env.cr.fetchone()
        # the names of the products of lines the user reads, without record
        # rules evaluated again for each product
        products = {
            str(product.id): product.display_name
            for product in self.env["product.product"]
            .sudo()
            .browse([pid for pid in product_ids or [] if pid])
        }
        units = {
            str(uom.id): uom.name
            for uom in self.env["uom.uom"].browse([uid for uid in uom_ids or [] if uid])
        }
        return SQL(
            """
            SELECT COALESCE(jsonb_agg(
                CASE WHEN line.display_type IS NOT NULL THEN jsonb_build_object(
                    'id', line.id,
                    'display_type', line.display_type,
                    'name', line.name)
                ELSE jsonb_build_object(
                    'id', line.id,
                    'display_type', false,
                    'product_id', line.product_id,
                    'product', COALESCE(%(products)s::jsonb ->> line.product_id::text, ''),
                    'name', line.name,
                    'quantity', COALESCE(line.product_uom_qty, 0.0),
                    'uom', COALESCE(%(units)s::jsonb ->> line.product_uom_id::text, ''),
                    'price_unit', COALESCE(line.price_unit, 0.0),
                    'discount', COALESCE(line.discount, 0.0),
                    'engine_price_unit', COALESCE(line.engine_price_unit, 0.0),
                    'deviation_percent', COALESCE(line.deviation_percent, 0.0),
                    'price_subtotal', COALESCE(line.price_subtotal, 0.0))
                END ORDER BY line.sequence, line.id), '[]'::jsonb)
            FROM sale_order_line line
            WHERE line.order_id = %(order_id)s
            """,
            products=json_dumps(products),
            units=json_dumps(units),
            order_id=self.id,
        )

    def _quote_version_values(self):
        """The values of a version of this quotation as it is now, without its
        lines (stored by _quote_version_create): their fingerprint, and the
        number of product lines."""
        self.ensure_one()
        values = {
            "order_id": self.id,
            "currency_id": self.currency_id.id,
            "amount_untaxed": self.currency_id.round(self.amount_untaxed),
            "amount_total": self.currency_id.round(self.amount_total),
            "payment_term_id": self.payment_term_id.id,
            "validity_date": self.validity_date,
        }
        # What the customer sees of the lines (not the engine price and
        # deviation, which are internal), fingerprinted by PostgreSQL.
        self.env["sale.order.line"].flush_model(LINE_COLUMNS)
        self.env.cr.execute(
            SQL(
                "SELECT md5(COALESCE(string_agg(ROW(id, display_type, name, "
                "product_id, product_uom_qty, product_uom_id, price_unit, discount, "
                "price_subtotal)::text, chr(30) ORDER BY sequence, id), '')), "
                "count(*) FILTER (WHERE display_type IS NULL) "
                "FROM sale_order_line WHERE order_id = %s",
                self.id,
            )
        )
        lines_fingerprint, values["product_line_count"] = self.env.cr.fetchone()
        values["content_hash"] = self.env["quote.version"]._hash_content(
            values, lines_fingerprint
        )
        values["version"] = (self.version_ids[:1].version or 0) + 1
        return values

    def _quote_version_number(self):
        """The number of the version the customer sees now: the last one when
        nothing changed since it was sent, else the next one."""
        self.ensure_one()
        if not self.id:
            return 1
        last = self.version_ids[:1]
        if last and self.state not in QUOTATION_STATES:
            return (self.accepted_version_id or last).version
        values = self._quote_version_values()
        if last and last.content_hash == values["content_hash"]:
            return last.version
        return values["version"]

    def _quote_version_record(
        self, channel, notify_identical=True, sent_date=None, attachment=None
    ):
        """Record what the customer receives now by ``channel``, unless it is
        the last version again (then say so on the chatter when
        ``notify_identical``).

        :return: the version of each quotation, new or the identical last one
        """
        versions = self.env["quote.version"]
        for order in self:
            values = order._quote_version_values()
            last = order.version_ids[:1]
            if last and last.content_hash == values["content_hash"]:
                if notify_identical:
                    order._quote_version_post_identical(last, channel)
                versions |= last
                continue
            version = order._quote_version_create(
                values, channel, attachment=attachment, sent_date=sent_date
            )
            order._quote_version_post(values, channel, last, version=version)
            versions |= version
        return versions

    def _quote_version_create(self, values, channel, attachment=None, sent_date=None):
        """Create the version; the sending that calls it was allowed already
        (the quotation's own access rules), and nobody creates versions by
        hand."""
        self.ensure_one()
        self.check_access("read")
        values = dict(values)
        values.pop("product_line_count")
        version = (
            self.env["quote.version"]
            .sudo()
            .create(
                {
                    **values,
                    "channel": channel,
                    "sent_date": sent_date or fields.Datetime.now(),
                    "sent_by_id": self.env.user.id,
                    "attachment_id": attachment.id if attachment else False,
                }
            )
        )
        # The lines go in as PostgreSQL builds them: through Python, thousands
        # of lines would be read, encoded and parsed again on every sending.
        self.env.cr.execute(
            SQL(
                "UPDATE quote_version SET line_data = (%s) WHERE id = %s",
                self._quote_version_lines_sql(),
                version.id,
            )
        )
        version.invalidate_recordset(["line_data"])
        self.invalidate_recordset(["version_ids", "version_count"])
        return version.with_env(self.env)

    def _quote_version_post(self, values, channel, last, version=None):
        """The chatter line of a new version, ``version`` once recorded: what
        changed since ``last``."""
        new = {**values, "channel": channel}
        old = None
        if last:
            old = last.sudo()._data(lines=False)
            new["line_data"], old["line_data"] = self._quote_version_changed_lines(
                last, version
            )
        summary = self.env["quote.version"]._summary(new, old)
        self._message_log(body=Markup("<p>%s</p>") % summary)

    def _quote_version_changed_lines(self, last, version=None):
        """The lines of the new version (``version``, else the quotation's
        lines as they are now) and of ``last`` that are not in the other one
        as they are: the lines added, changed and removed, each list in its
        version's order. PostgreSQL compares them, so that a change of a few
        lines of a large quotation reads only these lines, not all the lines
        of both versions; the other lines make no change to describe."""
        if version:
            new_lines = SQL(
                "SELECT line_data FROM quote_version WHERE id = %s", version.id
            )
        else:
            new_lines = self._quote_version_lines_sql()
        self.env.cr.execute(
            SQL(
                """
                WITH new AS (
                    SELECT line.value, line.position
                    FROM jsonb_array_elements((%(new_lines)s))
                        WITH ORDINALITY AS line(value, position)
                ), old AS (
                    SELECT line.value, line.position
                    FROM quote_version version,
                        jsonb_array_elements(version.line_data)
                        WITH ORDINALITY AS line(value, position)
                    WHERE version.id = %(last_id)s
                )
                SELECT
                    (SELECT COALESCE(jsonb_agg(new.value ORDER BY new.position),
                                     '[]'::jsonb)
                     FROM new
                     WHERE NOT EXISTS (SELECT FROM old WHERE old.value = new.value)),
                    (SELECT COALESCE(jsonb_agg(old.value ORDER BY old.position),
                                     '[]'::jsonb)
                     FROM old
                     WHERE NOT EXISTS (SELECT FROM new WHERE new.value = old.value))
                """,
                new_lines=new_lines,
                last_id=last.id,
            )
        )
        return self.env.cr.fetchone()

    def _quote_version_post_identical(self, last, channel):
        channel_label = dict(
            self.env["quote.version"]
            ._fields["channel"]
            ._description_selection(self.env)
        )[channel]
        self._message_log(
            body=Markup("<p>%s</p>")
            % self.env._(
                "Sent again (%(channel)s) with the same content as v%(version)s: "
                "no new version.",
                channel=channel_label,
                version=last.version,
            )
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @api.readonly
    def action_view_versions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "quote_process.quote_version_action"
        )
        action["domain"] = [("order_id", "=", self.id)]
        action["context"] = {"default_order_id": self.id}
        return action
