from . import quote_analysis
