from . import controllers
from . import models
from . import wizard
from . import report


def post_init_hook(env):
    env["res.company"].search([])._quote_create_default_authorities()
