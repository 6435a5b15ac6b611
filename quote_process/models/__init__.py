from . import res_company
from . import res_config_settings
from . import quote_deviation_reason
from . import quote_discount_authority
from . import sale_order
from . import sale_order_line
from . import ir_actions_report
from . import crm_lost_reason
