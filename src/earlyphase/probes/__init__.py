"""Curvature probes: tr(F), average/worst-case sharpness, Hessian λ_max (see base.py)."""

from .average_sharpness import AverageSharpness, average_sharpness
from .base import cross_entropy, half_mse, probe_mode, select_params
from .fisher_trace import FisherTrace, fisher_trace
from .hessian_eigenvalue import HessianEigen, hessian_max_eigenvalue
from .suite import PROBES, ProbeSuite
from .worst_case_sharpness import WorstCaseSharpness, apgd_checkpoints, worst_case_sharpness

__all__ = [
    "PROBES",
    "AverageSharpness",
    "FisherTrace",
    "HessianEigen",
    "ProbeSuite",
    "WorstCaseSharpness",
    "apgd_checkpoints",
    "average_sharpness",
    "cross_entropy",
    "fisher_trace",
    "half_mse",
    "hessian_max_eigenvalue",
    "probe_mode",
    "select_params",
    "worst_case_sharpness",
]
