"""Solvers: functions of their problem, each returning a :class:`Result`.

::

    solvers/
      _loop.py              Loop: the iteration driver (history, tol/callback stopping, progress bar, Result)
      result.py             Result, History
      proximal_gradient.py  pgd, fista
      monotone_apg.py       monotone_apg, prox_gradient_residual
      pdhg.py               pdhg (Chambolle-Pock)
      least_squares.py      landweber, cgls
      bregman.py            bregman, linearized_bregman
      power_method.py       operator_norm, nonlinear_power_method
      gradient_flow.py      gradient_flow
"""
from .bregman import bregman, linearized_bregman
from .gradient_flow import gradient_flow
from .least_squares import cgls, landweber
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
    "landweber",
    "cgls",
    "bregman",
    "linearized_bregman",
    "gradient_flow",
    "operator_norm",
    "nonlinear_power_method",
    "Result",
    "History",
]
