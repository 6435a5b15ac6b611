from lxml import etree

from odoo import models

# Context key under which a run that renders one mail template for many records
# asks QWeb to compile the template's body once (see ``IrQweb._compile``).
QWEB_COMPILE_ONCE = "quote_process_qweb_compile_once"
# Key of the cursor's cache under which those compiled bodies are kept.
QWEB_COMPILED_KEY = "quote_process_qweb_compiled"


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _compile(self, template):
        """Compile an inline template (the body of a mail template) once per
        source and compile options while ``QWEB_COMPILE_ONCE`` is in the
        context, as QWeb does for the templates of views.

        Odoo's mail templates parse and compile their body again for every
        record they render; the follow-up reminders render the same body for
        hundreds of quotations in one batch. The compiled functions only depend
        on the source and the compile options (they take the environment and
        the values at rendering), so they are shared for the batch; the run
        drops them at its end (``_quote_qweb_compiled_clear``)."""
        if not (
            self.env.context.get(QWEB_COMPILE_ONCE)
            and isinstance(template, etree._Element)
        ):
            return super()._compile(template)
        options = tuple(
            sorted(
                (key, repr(value))
                for key, value in self.env.context.items()
                if not key.startswith("_")
            )
        )
        key = (etree.tostring(template), options)
        compiled = self.env.cr.cache.setdefault(QWEB_COMPILED_KEY, {})
        if key not in compiled:
            compiled[key] = super()._compile(template)
        return compiled[key]

    def _quote_qweb_compiled_clear(self):
        self.env.cr.cache.pop(QWEB_COMPILED_KEY, None)
