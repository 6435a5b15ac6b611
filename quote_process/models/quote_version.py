import hashlib

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, formatLang

from ..tools.formatting import format_number

VERSION_CHANNELS = [
    ("email", "Email"),
    ("mark_sent", "Marked as Sent"),
    ("portal", "Customer Portal"),
    ("confirmation", "Confirmation"),
    ("other", "Other (API, import)"),
]


class QuoteVersion(models.Model):
    """What the customer received each time a quotation was sent.

    Versions are recorded by the sending itself (sale_order_version.py) and
    never change afterwards: nobody writes or deletes one. Deleting the
    quotation (administrators only, once it has versions) deletes them."""

    _name = "quote.version"
    _description = "Quotation Version"
    _order = "order_id, version desc"
    _check_company_auto = True

    order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Quotation",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
        help="The quotation this version was sent for.",
    )
    company_id = fields.Many2one(
        related="order_id.company_id",
        store=True,
        index=True,
        help="Company of the quotation.",
    )
    version = fields.Integer(
        required=True,
        readonly=True,
        help="Number of this version among the quotation's versions: 1, 2, ...",
    )
    sent_date = fields.Datetime(
        string="Sent On",
        required=True,
        readonly=True,
        help="When the customer received this version.",
    )
    sent_by_id = fields.Many2one(
        comodel_name="res.users",
        string="Sent By",
        readonly=True,
        help="Who sent this version: the salesperson, or the customer's own "
        "visit of the portal.",
    )
    channel = fields.Selection(
        selection=VERSION_CHANNELS,
        required=True,
        readonly=True,
        help="How the customer received this version.",
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        required=True,
        readonly=True,
        help="Currency of the amounts.",
    )
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount",
        readonly=True,
        help="Untaxed total the customer received.",
    )
    amount_total = fields.Monetary(
        string="Total",
        readonly=True,
        help="Total with taxes the customer received.",
    )
    payment_term_id = fields.Many2one(
        comodel_name="account.payment.term",
        string="Payment Terms",
        readonly=True,
        help="Payment terms the customer received.",
    )
    validity_date = fields.Date(
        string="Expiration",
        readonly=True,
        help="Validity of the quotation the customer received.",
    )
    # Hundreds of kB on a large quotation: not read with the other fields of
    # the versions (their number, fingerprint and totals, read by every
    # sending and by the quotation's form), only when the lines are shown.
    line_data = fields.Json(
        string="Lines",
        readonly=True,
        prefetch=False,
        help="The lines in order, sections and notes included: product, "
        "description, quantity, unit, unit price, discount, engine price, "
        "deviation and subtotal.",
    )
    content_hash = fields.Char(
        readonly=True,
        help="Fingerprint of what the customer sees: a sending with the same "
        "fingerprint as the last version makes no new version.",
    )
    attachment_id = fields.Many2one(
        comodel_name="ir.attachment",
        string="PDF Sent",
        readonly=True,
        ondelete="restrict",
        help="The PDF attached to the email that sent this version.",
    )
    line_count = fields.Integer(
        string="Product Lines",
        compute="_compute_line_count",
        help="Number of product lines.",
    )
    lines_html = fields.Html(
        string="Content",
        compute="_compute_lines_html",
        sanitize=False,
        help="The lines the customer received.",
    )
    changes_html = fields.Html(
        string="Changes",
        compute="_compute_changes_html",
        sanitize=False,
        help="What changed since the previous version.",
    )

    _version_uniq = models.Constraint(
        "UNIQUE(order_id, version)",
        "A quotation has one version of each number.",
    )

    def init(self):
        # The lines of a large quotation are hundreds of kB of JSON: PostgreSQL's
        # default compression (pglz) would cost more than the rest of recording
        # the version. lz4 where the server has it, else no compression.
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "ALTER TABLE quote_version ALTER COLUMN line_data "
                    "SET COMPRESSION lz4"
                )
        except psycopg2.Error:
            self.env.cr.execute(
                "ALTER TABLE quote_version ALTER COLUMN line_data SET STORAGE EXTERNAL"
            )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("order_id.name", "version")
    def _compute_display_name(self):
        for version in self:
            version.display_name = self.env._(
                "%(order)s v%(version)s",
                order=version.order_id.name,
                version=version.version,
            )

    @api.depends("line_data")
    def _compute_line_count(self):
        for version in self:
            version.line_count = len(
                [line for line in version.line_data or [] if not line["display_type"]]
            )

    @api.depends("line_data")
    def _compute_lines_html(self):
        for version in self:
            rows = Markup("").join(
                version._line_row_html(line) for line in version.line_data or []
            )
            version.lines_html = Markup(
                '<table class="table table-sm o_quote_version_lines">'
                "<thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody></table>"
            ) % (
                self.env._("Product"),
                self.env._("Description"),
                self.env._("Quantity"),
                self.env._("Unit Price"),
                self.env._("Discount (%)"),
                self.env._("Subtotal"),
                rows,
            )

    @api.depends("line_data", "order_id")
    def _compute_changes_html(self):
        for version in self:
            previous = version._previous()
            if not previous:
                version.changes_html = Markup("<p>%s</p>") % self.env._(
                    "First version sent to the customer."
                )
                continue
            version.changes_html = version._diff_html(previous)

    # ------------------------------------------------------------------
    # CRUD: versions are immutable
    # ------------------------------------------------------------------

    def write(self, vals):
        if self:
            raise UserError(
                self.env._(
                    "A version is what the customer received: it cannot be "
                    "changed. Change the quotation and send it again to make a "
                    "new version."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._(
                "A version is what the customer received: it cannot be deleted. "
                "An administrator deleting the quotation deletes its versions."
            )
        )

    def copy(self, default=None):
        if self:
            raise UserError(
                self.env._(
                    "A version cannot be duplicated: send the quotation to make "
                    "a new version."
                )
            )
        return super().copy(default=default)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_compare(self):
        """Open the comparison of two versions: the two selected, or this one
        and its previous version."""
        versions = self.sorted("version")
        if len(versions.order_id) != 1 or len(versions) > 2:
            raise UserError(
                self.env._("Select one or two versions of the same quotation.")
            )
        older = versions[0] if len(versions) == 2 else versions._previous()
        newer = versions[-1]
        wizard = self.env["quote.version.compare"].create(
            {
                "order_id": newer.order_id.id,
                "version_from_id": (older or newer).id,
                "version_to_id": newer.id,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Compare Versions"),
            "res_model": "quote.version.compare",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.readonly
    def action_open_attachment(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "new",
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _previous(self):
        """The version sent just before this one."""
        self.ensure_one()
        return self.search(
            [("order_id", "=", self.order_id.id), ("version", "<", self.version)],
            order="version desc",
            limit=1,
        )

    def _data(self, lines=True):
        """The values compared between versions, the lines only with
        ``lines``. The lines are read as stored: the ORM copies a JSON value on
        every read, and a version never changes."""
        self.ensure_one()
        data = {
            "version": self.version,
            "channel": self.channel,
            "currency_id": self.currency_id.id,
            "amount_total": self.amount_total,
            "payment_term_id": self.payment_term_id.id,
            "validity_date": self.validity_date,
        }
        if lines:
            self.env.cr.execute(
                SQL("SELECT line_data FROM quote_version WHERE id = %s", self.id)
            )
            row = self.env.cr.fetchone()
            data["line_data"] = (row and row[0]) or []
        return data

    @api.model
    def _money(self, amount, currency_id):
        currency = self.env["res.currency"].browse(currency_id)
        return formatLang(self.env, amount or 0.0, digits=currency.decimal_places or 2)

    @api.model
    def _line_label(self, line):
        if line["display_type"]:
            return line["name"] or ""
        return line["product"] or line["name"] or ""

    def _line_row_html(self, line):
        if line["display_type"]:
            tag = "strong" if line["display_type"] == "line_section" else "em"
            return Markup('<tr><td colspan="6"><%s>%s</%s></td></tr>') % (
                Markup(tag),
                line["name"] or "",
                Markup(tag),
            )
        currency_id = self.currency_id.id
        return Markup(
            "<tr><td>%s</td><td>%s</td><td>%s %s</td><td>%s</td><td>%s</td>"
            "<td>%s</td></tr>"
        ) % (
            line["product"] or "",
            line["name"] or "",
            format_number(self.env, line["quantity"]),
            line["uom"] or "",
            self._money(line["price_unit"], currency_id),
            format_number(self.env, line["discount"]),
            self._money(line["price_subtotal"], currency_id),
        )

    def _diff(self, older):
        """What changed from ``older`` to this version, as short sentences a
        salesperson reads."""
        self.ensure_one()
        return self._diff_data(older._data(), self._data())

    @api.model
    def _diff_data(self, old, new):
        """What changed from the version values ``old`` to ``new``: lines
        added, removed and changed (quantity, price, discount, description),
        totals, payment terms and validity."""
        env = self.env
        changes = []
        old_lines = {line["id"]: line for line in old["line_data"]}
        for line in new["line_data"]:
            before = old_lines.get(line["id"])
            if line["display_type"]:
                if not before:
                    changes.append(self._display_line_change(line, "added"))
                elif before["name"] != line["name"]:
                    changes.append(self._display_line_change(line, "changed"))
            elif not before:
                changes.append(
                    env._(
                        "added %(product)s (%(quantity)s × %(price)s)",
                        product=self._line_label(line),
                        quantity=format_number(env, line["quantity"]),
                        price=self._money(line["price_unit"], new["currency_id"]),
                    )
                )
            else:
                changes += self._line_changes(before, line, old, new)
        new_ids = {line["id"] for line in new["line_data"]}
        for line in old["line_data"]:
            if line["id"] in new_ids:
                continue
            if line["display_type"]:
                changes.append(self._display_line_change(line, "removed"))
            else:
                changes.append(env._("removed %(label)s", label=self._line_label(line)))
        return changes + self._terms_changes(old, new)

    @api.model
    def _line_changes(self, before, line, old, new):
        env = self.env
        label = self._line_label(line)
        changes = []
        if before["price_unit"] != line["price_unit"]:
            changes.append(
                env._(
                    "%(product)s %(old)s → %(new)s",
                    product=label,
                    old=self._money(before["price_unit"], old["currency_id"]),
                    new=self._money(line["price_unit"], new["currency_id"]),
                )
            )
        if before["quantity"] != line["quantity"]:
            changes.append(
                env._(
                    "%(product)s quantity %(old)s → %(new)s",
                    product=label,
                    old=format_number(env, before["quantity"]),
                    new=format_number(env, line["quantity"]),
                )
            )
        if before["discount"] != line["discount"]:
            changes.append(
                env._(
                    "%(product)s discount %(old)s%% → %(new)s%%",
                    product=label,
                    old=format_number(env, before["discount"]),
                    new=format_number(env, line["discount"]),
                )
            )
        if before["name"] != line["name"]:
            changes.append(env._("%(product)s: new description", product=label))
        return changes

    @api.model
    def _terms_changes(self, old, new):
        env = self.env
        changes = []
        currency = env["res.currency"].browse(new["currency_id"])
        if old["currency_id"] != new["currency_id"]:
            changes.append(
                env._(
                    "currency %(old)s → %(new)s",
                    old=env["res.currency"].browse(old["currency_id"]).name,
                    new=currency.name,
                )
            )
        if currency.compare_amounts(new["amount_total"], old["amount_total"]):
            changes.append(
                env._(
                    "total %(old)s → %(new)s",
                    old=self._money(old["amount_total"], old["currency_id"]),
                    new=self._money(new["amount_total"], new["currency_id"]),
                )
            )
        if old["payment_term_id"] != new["payment_term_id"]:
            terms = env["account.payment.term"].browse(new["payment_term_id"])
            changes.append(
                env._("payment terms %(terms)s", terms=terms.name or env._("none"))
            )
        if old["validity_date"] != new["validity_date"]:
            changes.append(
                env._(
                    "valid until %(date)s",
                    date=format_date(env, new["validity_date"])
                    if new["validity_date"]
                    else env._("no expiration"),
                )
            )
        return changes

    @api.model
    def _display_line_change(self, line, change):
        """A section or note added, removed or reworded, in words."""
        env = self.env
        name = line["name"] or ""
        if line["display_type"] == "line_section":
            return {
                "added": env._('added section "%(name)s"', name=name),
                "removed": env._('removed section "%(name)s"', name=name),
                "changed": env._('section renamed "%(name)s"', name=name),
            }[change]
        return {
            "added": env._('added note "%(name)s"', name=name),
            "removed": env._('removed note "%(name)s"', name=name),
            "changed": env._('note changed to "%(name)s"', name=name),
        }[change]

    def _diff_html(self, older):
        changes = self._diff(older)
        if not changes:
            return Markup("<p>%s</p>") % self.env._("No change.")
        return Markup("<ul>%s</ul>") % Markup("").join(
            Markup("<li>%s</li>") % change for change in changes
        )

    @api.model
    def _summary(self, new, old=None):
        """The chatter line of the version of values ``new``: its number and
        what changed since the version of values ``old``."""
        if not old:
            return self.env._(
                "v%(version)s sent to the customer (%(channel)s): %(lines)s lines, "
                "total %(total)s",
                version=new["version"],
                channel=dict(self._fields["channel"]._description_selection(self.env))[
                    new["channel"]
                ],
                lines=new["product_line_count"],
                total=self._money(new["amount_total"], new["currency_id"]),
            )
        return self.env._(
            "v%(version)s: %(changes)s",
            version=new["version"],
            changes="; ".join(self._diff_data(old, new))
            or self.env._("same lines and prices"),
        )

    @api.model
    def _hash_content(self, values, lines_fingerprint):
        """Fingerprint of what the customer sees: the totals and terms of
        ``values`` and ``lines_fingerprint``, the one of the lines without the
        engine price and deviation, which are internal."""
        visible = [
            values["currency_id"],
            values["amount_untaxed"],
            values["amount_total"],
            values["payment_term_id"],
            str(values["validity_date"]),
            lines_fingerprint,
        ]
        return hashlib.sha256(repr(visible).encode()).hexdigest()
