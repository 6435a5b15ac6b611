from . import quote_response_wizard
