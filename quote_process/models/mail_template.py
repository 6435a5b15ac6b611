from markupsafe import Markup

from odoo import models

# The emails that send a quotation to the customer.
QUOTATION_EMAIL_TEMPLATES = ("sale.email_template_edi_sale",)


class MailTemplate(models.Model):
    _inherit = "mail.template"

    def _render_field(self, field, res_ids, *args, **kwargs):
        """The quotation email tells the customer about their offers and terms,
        whatever the wording of the template."""
        rendered = super()._render_field(field, res_ids, *args, **kwargs)
        if field != "body_html" or self.model != "sale.order" or not res_ids:
            return rendered
        templates = [
            self.env.ref(xmlid, raise_if_not_found=False)
            for xmlid in QUOTATION_EMAIL_TEMPLATES
        ]
        if self not in templates:
            return rendered
        orders = self.env["sale.order"].browse([res_id for res_id in res_ids if res_id])
        for order in orders:
            block = order._quote_render_offers_email()
            if block:
                rendered[order.id] = Markup(rendered[order.id] or "") + block
        return rendered
