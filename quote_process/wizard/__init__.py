from . import quote_lost_wizard
from . import quote_response_wizard
