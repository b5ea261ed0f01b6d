"""Functionals: data terms and regularizers with value, gradient, prox and conjugate.

::

    functionals/
      base.py          Functional protocol (prox/prox_conj templates over _prox/_prox_conj, the *_into
                       in-place forms), ScaledFunctional, SumFunctional, ComposedFunctional, SeparableSum, Zero
      fidelity.py      data terms: L2DataFidelity, L1DataFidelity, KullbackLeibler
      ptycho_data.py   amplitude / intensity terms for phase retrieval
      norms.py         L1, L2, SquaredL2, L21, Box, NonNegativity (+ soft_threshold)
      tikhonov.py      Tikhonov (||Lx||^2; CG prox)
      tv.py            TV (primal-dual prox with a gap certificate), HuberTV
      dtv.py           DirectionalGradient, DirectionalTV (+ dtv_solver.py, its workspace)
      splines.py       LinearSpline;  ridge.py  RidgeRegularizer;  wavelet.py  WaveletL1
      _tv_numba.py, _dtv_numba.py, _spline_numba.py   compiled kernels (private; see recon._compiled)
"""
from .base import ComposedFunctional, Functional, ScaledFunctional, SeparableSum, SumFunctional, Zero
from .dtv import DirectionalGradient, DirectionalTV, luminance, project_simplex
from .fidelity import KullbackLeibler, L1DataFidelity, L2DataFidelity
from .norms import L1, L2, L21, Box, NonNegativity, SquaredL2
from .ridge import RidgeRegularizer
from .splines import LinearSpline
from .tikhonov import Tikhonov
from .tv import TV, HuberTV
from .wavelet import WaveletL1

__all__ = [
    "Functional", "ScaledFunctional", "SumFunctional", "ComposedFunctional", "SeparableSum", "Zero",
    "L2DataFidelity", "L1DataFidelity", "KullbackLeibler",
    "L1", "L2", "L21", "Box", "NonNegativity", "SquaredL2",
    "Tikhonov", "TV", "HuberTV",
    "DirectionalGradient", "DirectionalTV", "luminance", "project_simplex",
    "LinearSpline", "RidgeRegularizer", "WaveletL1",
]
