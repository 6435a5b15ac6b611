from . import test_settings
from . import test_pricing_engine
