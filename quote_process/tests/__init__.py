from . import test_settings
from . import test_discount_authority
from . import test_deviation_approval
