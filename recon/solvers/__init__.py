"""Solvers: functions of their problem, each returning a :class:`Result`."""
from .bregman import bregman, linearized_bregman
from .gradient_flow import gradient_flow
from .monotone_apg import monotone_apg, prox_gradient_residual
from .pdhg import pdhg
from .power_method import nonlinear_power_method, operator_norm
from .proximal_gradient import fista, pgd
from .result import History, Result

__all__ = [
    "pgd",
    "fista",
    "monotone_apg",
    "prox_gradient_residual",
    "pdhg",
    "bregman",
    "linearized_bregman",
    "gradient_flow",
    "operator_norm",
    "nonlinear_power_method",
    "Result",
    "History",
]
