from . import res_company
from . import res_config_settings
from . import quote_deviation_reason
from . import quote_discount_authority
