"""Solvers: functions of their problem, each returning a :class:`Result`."""
from .result import History, Result
