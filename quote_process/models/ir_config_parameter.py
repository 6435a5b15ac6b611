from odoo import models

# Context key under which a run that queues many emails from one template
# renders them in chunks of that size (see ``IrConfigParameter.get_param``).
MAIL_BATCH_SIZE = "quote_process_mail_batch_size"


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    def get_param(self, key, default=False):
        """``mail.batch_size`` (how many emails ``mail.template.send_mail_batch``
        renders and creates at a time, 50 by default) is the size of the run's
        batch while ``MAIL_BATCH_SIZE`` is in the context: the follow-up
        reminder queues its batch of emails in one chunk, not in chunks of 50
        that each cost the same statements again. A size the administrator set
        in the system parameters is kept."""
        batch_size = self.env.context.get(MAIL_BATCH_SIZE)
        if key == "mail.batch_size" and batch_size:
            return super().get_param(key) or str(batch_size)
        return super().get_param(key, default=default)
