from odoo import http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request

from odoo.addons.sale.controllers.portal import PaymentPortal


class QuotePaymentPortal(PaymentPortal):
    @http.route()
    def portal_order_transaction(self, order_id, access_token, **kwargs):
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token
            )
        except (AccessError, MissingError):
            order_sudo = None  # the standard route reports the access problem
        if order_sudo and order_sudo._quote_blocking_approval():
            raise ValidationError(
                request.env._(
                    "This quotation is being reviewed by the seller and cannot be "
                    "paid yet. Please contact your salesperson."
                )
            )
        return super().portal_order_transaction(order_id, access_token, **kwargs)
