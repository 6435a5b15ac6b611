from . import sale_order_demo
from . import sale_order_version_demo
