from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.sale.controllers import portal as sale_portal

from ..models.sale_order import QUOTATION_STATES


class CustomerPortal(sale_portal.CustomerPortal):
    @http.route()
    def portal_order_page(self, order_id, report_type=None, access_token=None, **kw):
        """What the customer sees on the portal is what they received: a
        quotation changed since its last version gets a new version when the
        customer opens it."""
        if request.env.user.share and access_token:
            try:
                order_sudo = self._document_check_access(
                    "sale.order", order_id, access_token=access_token
                )
            except (AccessError, MissingError):
                order_sudo = None  # the standard route reports the access problem
            if order_sudo and order_sudo.state in QUOTATION_STATES:
                order_sudo._quote_version_record("portal", notify_identical=False)
        return super().portal_order_page(
            order_id, report_type=report_type, access_token=access_token, **kw
        )
