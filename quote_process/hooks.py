def post_init_hook(env):
    env["res.company"].search([])._quote_create_default_authorities()
    env["sale.order"]._quote_followup_init_preexisting()
