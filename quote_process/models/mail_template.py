from markupsafe import Markup

from odoo import models, tools

from .ir_qweb import QWEB_COMPILE_ONCE

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

    def _has_unsafe_expression_template_qweb(self, source, model, fname=None):
        """Odoo compiles a body once more, on every rendering call, to know
        whether it holds expressions reserved to template editors. While
        ``QWEB_COMPILE_ONCE`` is in the context (see ``IrQweb``) the answer
        is kept per source and model, as the compiled body is."""
        if self.env.context.get(QWEB_COMPILE_ONCE) and not fname:
            return self._quote_has_unsafe_expression_qweb(source, model)
        return super()._has_unsafe_expression_template_qweb(source, model, fname=fname)

    @tools.ormcache("str(source)", "model", cache="templates")
    def _quote_has_unsafe_expression_qweb(self, source, model):
        return super()._has_unsafe_expression_template_qweb(source, model)
