from . import controllers
from . import models
from . import wizard
from . import demo
from . import report
from .hooks import post_init_hook, pre_init_hook
