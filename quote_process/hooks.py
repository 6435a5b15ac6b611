def post_init_hook(env):
    env["sale.order"]._quote_followup_init_preexisting()
