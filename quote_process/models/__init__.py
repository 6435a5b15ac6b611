from . import res_company
from . import res_config_settings
from . import quote_pricing_rule
from . import sale_order
from . import sale_order_line
