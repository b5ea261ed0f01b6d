"""recon: variational inverse problems on NumPy and CuPy.

A reconstruction is operators (what the instrument does) plus functionals (what we believe
about data and image) handed to a solver (how we minimise).
"""
__version__ = "0.1.0"

from . import backend, functionals, operators, solvers  # noqa: E402
