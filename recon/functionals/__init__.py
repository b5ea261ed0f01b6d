"""Functionals: data terms and regularizers with value, gradient, prox and conjugate."""
from .base import ComposedFunctional, Functional, ScaledFunctional, SeparableSum, SumFunctional, Zero
from .data import KullbackLeibler, L1DataFidelity, L2DataFidelity
from .norms import L1, L2, L21, Box, NonNegativity, SquaredL2
from .tikhonov import Tikhonov
from .tv import TV, HuberTV
from .dtv import DirectionalGradient, DirectionalTV, luminance, project_simplex
from .splines import LinearSpline
from .ridge import RidgeRegularizer
from .wavelet import WaveletL1
