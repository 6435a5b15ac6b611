from . import quote_lost_wizard
