from lxml import etree

from odoo import models, tools

# Context key under which a run that renders one mail template for many records
# asks QWeb to compile the template's body once (see ``IrQweb``).
QWEB_COMPILE_ONCE = "quote_process_qweb_compile_once"


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _generate_code_uncached(self, template):
        """Generate the code of an inline template (the body of a mail
        template) once per source while ``QWEB_COMPILE_ONCE`` is in the
        context, as QWeb does for the templates of views.

        Odoo's mail templates parse and compile their body again for every
        record they render; the follow-up reminders render the same bodies for
        hundreds of quotations in each run. The generated functions depend only
        on the source and the compile options (they take the environment and
        the values when rendering), so they are kept in the registry's cache of
        templates, keyed like the views' code: an edited body is another source,
        compiled anew."""
        if self.env.context.get(QWEB_COMPILE_ONCE) and isinstance(
            template, etree._Element
        ):
            return self._quote_generate_inline_code(etree.tostring(template), template)
        return super()._generate_code_uncached(template)

    @tools.ormcache(
        "source",
        "tuple(self.env.context.get(k) or False "
        "for k in self._get_template_cache_keys())",
        cache="templates",
    )
    def _quote_generate_inline_code(self, source, template):
        """The code of ``template``, whose markup is ``source``."""
        return super()._generate_code_uncached(template)
