from markupsafe import Markup

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_amount


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Pricing engine
    # ------------------------------------------------------------------

    def action_reset_to_engine_price(self):
        """Set every line the engine prices back to the engine price, computed
        with the current rules, without discount; noted in the chatter."""
        not_quotes = self.filtered(lambda order: order.state not in ("draft", "sent"))
        if not_quotes:
            raise UserError(
                self.env._(
                    "Only quotations can be reset to the engine prices, and %(orders)s "
                    "is no longer one. Change the prices line by line, or create a "
                    "new quotation.",
                    orders=", ".join(not_quotes.mapped("display_name")),
                )
            )
        for order in self:
            lines = order.order_line.filtered(lambda line: line._is_engine_priced())
            if not lines:
                continue
            lines._recompute_engine_price()
            changes = []
            for line in lines:
                currency = line.currency_id
                price = line.engine_price_unit
                if (
                    not currency.compare_amounts(line.price_unit, price)
                    and not line.discount
                ):
                    continue
                changes.append(
                    Markup("<li>%s</li>")
                    % self.env._(
                        "%(product)s: %(old)s → %(new)s",
                        product=line.product_id.display_name,
                        old=line._get_engine_reset_description(),
                        new=format_amount(self.env, price, currency),
                    )
                )
                line.write(
                    {
                        "price_unit": price,
                        "technical_price_unit": price,
                        "discount": 0.0,
                    }
                )
            if changes:
                body = Markup("%s<ul>%s</ul>") % (
                    self.env._("Prices reset to the engine price:"),
                    Markup().join(changes),
                )
            else:
                body = self.env._("All lines were already at the engine price.")
            order.message_post(body=body)
        return True
