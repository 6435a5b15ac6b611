import hashlib

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import (
    SQL,
    format_amount,
)

from .sale_order import QUOTATION_STATES


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # One customer, one price
    # ------------------------------------------------------------------

    conflicting_order_ids = fields.Many2many(
        comodel_name="sale.order",
        string="Competing Quotes",
        compute="_compute_conflicting_order_ids",
        compute_sudo=True,
        help="Other salespeople's open quotations for the same customer (its "
        "company, contacts and addresses).",
    )
    quote_conflict_message = fields.Text(
        string="Competing Quotes Warning",
        compute="_compute_conflicting_order_ids",
        compute_sudo=True,
        help="The other salespeople's open quotations for this customer, with "
        "their owners and amounts.",
    )

    @api.depends("partner_id", "user_id", "company_id", "state")
    @api.depends_context("lang")
    def _compute_conflicting_order_ids(self):
        quotes = self.filtered(
            lambda order: order.partner_id and order.state in QUOTATION_STATES
        )
        (self - quotes).conflicting_order_ids = False
        (self - quotes).quote_conflict_message = False
        if not quotes:
            return
        partners = quotes.partner_id.commercial_partner_id
        others = self.search_fetch(
            Domain("partner_id.commercial_partner_id", "in", partners.ids)
            & Domain("company_id", "in", quotes.company_id.ids)
            & Domain("state", "in", list(QUOTATION_STATES))
            & Domain("user_id", "!=", False),
            ["name", "partner_id", "user_id", "company_id", "amount_total"],
        )
        for order in quotes:
            conflicts = others.filtered(
                lambda other, order=order: (
                    other != order._origin
                    and other.company_id == order.company_id
                    and other.user_id != order.user_id
                    and other.partner_id.commercial_partner_id
                    == order.partner_id.commercial_partner_id
                )
            )
            order.conflicting_order_ids = conflicts
            order.quote_conflict_message = (
                self.env._(
                    "%(customer)s already has open quotations from other "
                    "salespeople: %(quotes)s. Agree on one price with them before "
                    "sending this one.",
                    customer=order.partner_id.commercial_partner_id.name,
                    quotes="; ".join(
                        self.env._(
                            "%(name)s by %(user)s, %(amount)s",
                            name=other.name,
                            user=other.user_id.name,
                            amount=format_amount(
                                self.env, other.amount_total, other.currency_id
                            ),
                        )
                        for other in conflicts
                    ),
                )
                if conflicts
                else False
            )

    def _quote_conflict_lock_key(self):
        """A 64-bit key for the advisory lock of (company, commercial partner)."""
        self.ensure_one()
        digest = hashlib.sha256(
            f"quote_process.conflict:{self.company_id.id}:"
            f"{self.partner_id.commercial_partner_id.id}".encode()
        ).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def _quote_check_conflict_policy(self):
        """With the Block policy, a salesperson cannot have an open quotation for
        a customer who has another salesperson's open quotation; sales managers
        can. Quotes created at the same moment in two transactions are
        serialised by a transaction-level lock on (company, customer)."""
        if self.env.su or self.env.user.has_group("sales_team.group_sale_manager"):
            return
        quotes = self.filtered(
            lambda order: (
                order.state in QUOTATION_STATES
                and order.partner_id
                and order.user_id
                and order.company_id.quote_conflict_policy == "block"
            )
        )
        if not quotes:
            return
        keys = sorted({order._quote_conflict_lock_key() for order in quotes})
        for key in keys:
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", key))
        for order in quotes:
            conflict = order._quote_find_blocking_conflict()
            if conflict:
                raise UserError(
                    self.env._(
                        "%(customer)s already has the open quotation %(quote)s of "
                        "%(user)s, and your company allows one salesperson per "
                        "customer. Ask %(user)s or a sales manager to add your "
                        "products to that quotation, or to cancel it first.",
                        customer=order.partner_id.commercial_partner_id.name,
                        quote=conflict[1],
                        user=conflict[2],
                    )
                )

    def _quote_find_blocking_conflict(self):
        """(id, name, salesperson name) of another salesperson's open quotation
        for the same customer, or None. Read both in this transaction (its own
        uncommitted quotes) and in a fresh one: with the lock held, a fresh
        snapshot sees the quotes that concurrent transactions committed while
        this one was waiting."""
        self.ensure_one()
        query = SQL(
            """
            SELECT so.id, so.name, p.name
              FROM sale_order so
              JOIN res_partner cp ON cp.id = so.partner_id
              JOIN res_users u ON u.id = so.user_id
              JOIN res_partner p ON p.id = u.partner_id
             WHERE cp.commercial_partner_id = %(partner)s
               AND so.company_id = %(company)s
               AND so.state IN %(states)s
               AND so.user_id IS NOT NULL
               AND so.user_id != %(user)s
               AND so.id != %(order)s
             ORDER BY so.id
             LIMIT 1
            """,
            partner=self.partner_id.commercial_partner_id.id,
            company=self.company_id.id,
            states=QUOTATION_STATES,
            user=self.user_id.id,
            order=self.id,
        )
        self.env.flush_all()
        self.env.cr.execute(query)
        row = self.env.cr.fetchone()
        if row:
            return row
        with self.env.registry.cursor() as fresh_cr:
            fresh_cr.execute(query)
            return fresh_cr.fetchone()
