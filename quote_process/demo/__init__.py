from . import sale_order_demo
