"""m2rec: M2Rec (arXiv 2505.04445) as a RecBole 1.2.1 plugin."""
from m2rec import compat

compat.apply()
