"""The metric names a scenario may use (expectations, observations, sweeps): one grammar for all."""

from __future__ import annotations

import re

METRIC_RE = re.compile(r"^(auc|peak|final|mean|min|tpeak|at_(\d+(\.\d+)?))$")
METRICS_HELP = "auc, peak, final, mean, min, tpeak or at_<minutes>"
