"""Linear operators (forward models) and their algebra.

::

    operators/
      base.py           LinearOperator (+ forward_into / adjoint_into), composition, sums, scaling, stack,
                        Identity, Diagonal, MatrixOperator, dottest
      gradient.py       Gradient, Divergence          convolution.py  Convolution, Blur, kernels
      multiconv.py      MultiConvolution (+ block_threads.py: BLAS threads per block)
      sampling.py       Crop, Pad, Mask, Subsample, Downsample
      wavelet.py        Wavelet                       warp.py         Warp, rotation
      ptychography.py   ExitWaves, ProbeExitWaves, FarField, NearField
      odl_bridge.py     ODL operators as recon operators
      radon.py, ramp.py, radon_symmetry.py   tomography (moving to operators/tomography/)
      _gradient_numba.py, _multiconv_planes.py   compiled / planes kernels (private)

``vdot``, ``norm``, ``lincomb``, ``zeros_like``, ``random_like`` are :mod:`recon.vectors`, re-exported.
"""
from ..vectors import lincomb, norm, random_like, vdot, zeros_like
from .base import Diagonal, Identity, LinearOperator, MatrixOperator, dottest, stack
from .convolution import Blur, Convolution, disk_kernel, gaussian_kernel, motion_kernel
from .gradient import Divergence, Gradient
from .multiconv import MultiConvolution
from .ptychography import ExitWaves, FarField, NearField, ProbeExitWaves
from .sampling import Crop, Downsample, Mask, Pad, Subsample
from .tomography import Radon
from .warp import Warp, rotation
from .wavelet import Wavelet

__all__ = [
    "LinearOperator", "Identity", "Diagonal", "MatrixOperator", "stack", "dottest",
    "vdot", "norm", "lincomb", "zeros_like", "random_like",
    "Gradient", "Divergence", "Blur", "Convolution", "disk_kernel", "gaussian_kernel", "motion_kernel",
    "MultiConvolution", "Crop", "Downsample", "Mask", "Pad", "Subsample", "Wavelet", "Radon", "Warp", "rotation",
    "ExitWaves", "FarField", "NearField", "ProbeExitWaves",
]
