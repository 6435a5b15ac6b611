from . import res_company
from . import res_config_settings
from . import crm_lost_reason
from . import sale_order
from . import quote_pricing_rule
from . import sale_order_line
