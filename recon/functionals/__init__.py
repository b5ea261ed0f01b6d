"""Functionals: data terms and regularizers with value, gradient, prox and conjugate."""
from .base import ComposedFunctional, Functional, ScaledFunctional, SeparableSum, SumFunctional, Zero
