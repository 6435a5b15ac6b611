from . import test_settings
from . import test_discount_authority
from . import test_deviation_approval
from . import test_lost_quotes
from . import test_quote_analysis
from . import test_distribution
from . import test_followup
from . import test_pricing_engine
