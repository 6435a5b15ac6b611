from . import quote_analysis
from . import quote_analysis_version
