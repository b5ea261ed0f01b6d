"""Solvers: functions of their problem, each returning a :class:`Result`."""
from .pdhg import pdhg
from .proximal_gradient import fista, pgd
from .result import History, Result
