from odoo import models

# The quote documents that go to the customer.
CUSTOMER_QUOTE_REPORTS = ("sale.report_saleorder", "sale.report_saleorder_pro_forma")


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_html(self, report_ref, docids, data=None):
        report = self._get_report(report_ref)
        if report.model == "sale.order" and report.report_name in (
            CUSTOMER_QUOTE_REPORTS
        ):
            # Odoo renders the customer's portal download as superuser: the
            # document never reaches the customer before the approval.
            self.env["sale.order"].browse(docids)._quote_check_can_proceed(
                trust_env=False
            )
        return super()._render_qweb_html(report_ref, docids, data=data)
