from odoo import http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request

from odoo.addons.sale.controllers import portal as sale_portal

from ..models.sale_order import QUOTATION_STATES


class CustomerPortal(sale_portal.CustomerPortal):
    @http.route()
    def portal_quote_decline(
        self, order_id, access_token=None, decline_message=None, **kwargs
    ):
        """A customer declining the quotation on the portal is their response,
        and the quotation is lost."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            order_sudo = request.env["sale.order"]
        was_open = order_sudo.state in QUOTATION_STATES
        response = super().portal_quote_decline(
            order_id,
            access_token=access_token,
            decline_message=decline_message,
            **kwargs,
        )
        if was_open and order_sudo.state == "cancel":
            order_sudo._quote_customer_declined()
        return response


class PaymentPortal(sale_portal.PaymentPortal):
    @http.route()
    def portal_order_transaction(self, order_id, access_token, **kwargs):
        """A quotation awaiting the approval of its prices cannot be paid."""
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
