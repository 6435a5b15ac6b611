def pre_init_hook(env):
    """Flag the quotations already sent before the addon's fields exist: the
    approval gate does not hold them back unless the company asks for it."""
    env.cr.execute(
        """
        ALTER TABLE sale_order
        ADD COLUMN IF NOT EXISTS quote_priced_before_install boolean;
        UPDATE sale_order SET quote_priced_before_install = TRUE WHERE state = 'sent';
        """
    )


def post_init_hook(env):
    env["res.company"].search([])._quote_create_default_authorities()
    env["sale.order"]._quote_followup_init_preexisting()
    # The approval states were stored before the default authorities existed.
    env["sale.order"]._quote_refresh_approval_states(open_only=False)
    # the quotes decided before installation guide prices from the first day
    env["quote.guidance.stat"]._refresh()
