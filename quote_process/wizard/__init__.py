from . import quote_approval_reject_wizard
from . import sale_order_discount
from . import quote_lost_wizard
from . import quote_response_wizard
from . import quote_version_compare
