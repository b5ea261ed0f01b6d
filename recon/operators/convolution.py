r"""Convolution (blur) by FFT, with periodic or zero boundary, and the usual blur kernels.

Convention, for a kernel :math:`k` of shape :math:`(K_1, \dots, K_d)` and an image :math:`u`
of shape :math:`(n_1, \dots, n_d)`:

.. math::
    (k * u)_i = \sum_j k_j \, u_{i + c - j}, \qquad c_a = \lfloor (K_a - 1) / 2 \rfloor,

so the kernel sample at index :math:`c` lands on pixel :math:`i`.  For odd sizes
:math:`c = K // 2`, the middle of the kernel; for even sizes this is the centring of
``scipy.signal.convolve(u, k, mode="same")``.  Outside the image :math:`u` is either
periodic (``boundary="periodic"``) or zero (``boundary="zero"``).
"""
from __future__ import annotations

import math

import array_api_compat
import numpy as np

from .._checks import finite, one_of, positive_int
from ..backend import array_namespace, asarray, check_finite, namespace, pad_edge
from .base import LinearOperator

__all__ = ["Convolution", "Blur", "gaussian_kernel", "disk_kernel", "motion_kernel"]

_BOUNDARIES = ("periodic", "zero")


def _fast_length(n: int) -> int:
    """Smallest integer >= n whose only prime factors are 2, 3 and 5 (fast FFT sizes)."""
    m = n
    while True:
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 1


class Convolution(LinearOperator):
    r"""Convolution with a fixed kernel, computed by FFT: :math:`A u = k * u`.

    .. math::
        (A u)_i = \sum_j k_j \, u_{i + c - j}, \qquad c_a = \lfloor (K_a - 1)/2 \rfloor,

    with :math:`u` extended periodically (``"periodic"``) or by zeros (``"zero"``).

    * ``boundary="zero"`` equals ``scipy.signal.convolve(u, k, mode="same")`` for kernels of
      any size.  It is computed on a zero-padded domain of (fast) size
      :math:`\ge n_a + K_a - 1` per axis, so the circular FFT convolution has no wrap-around,
      then cropped.  The adjoint is zero-padding, circular *correlation* and cropping, the
      exact transpose of that chain.
    * ``boundary="periodic"`` is the circular convolution with the same centring (for odd
      kernels, ``scipy.ndimage.convolve(u, k, mode="wrap")``).  It is diagonal in Fourier space,
      :math:`A u = \mathcal F^{-1}(H \cdot \mathcal F u)` with :math:`H` from
      :meth:`transfer_function`, the adjoint multiplies by :math:`\bar H`, and
      :math:`\|A\| = \max |H|` exactly.

    Parameters
    ----------
    kernel : array, shape (K_1, ..., K_d)
        Real, finite kernel, ``d == len(shape)``.  It fixes the array library: inputs must
        come from the same one (no silent host/device copies).  For periodic boundary
        :math:`K_a \le n_a`.
    shape : tuple of int
        Shape of the image, also the output shape.
    boundary : {"periodic", "zero"}
        How the image continues outside its domain.

    Notes
    -----
    Computations follow the input's dtype: a float32 image is transformed in complex64 and
    returns float32.  The kernel's spectrum is computed once per dtype (in float64, then cast)
    and cached.

    References
    ----------
    Hansen, P. C., Nagy, J. G., O'Leary, D. P. (2006). *Deblurring Images: Matrices, Spectra,
    and Filtering*. SIAM, ch. 4 (boundary conditions and their structured matrices).

    Examples
    --------
    >>> import numpy as np
    >>> A = Convolution(gaussian_kernel(1.5), (32, 32))
    >>> round(float(A(np.ones((32, 32))).mean()), 6)  # the kernel sums to 1
    1.0
    """

    def __init__(self, kernel, shape, boundary: str = "periodic"):
        xp = array_namespace(kernel)
        shape = tuple(int(n) for n in shape)
        if not shape or any(n < 1 for n in shape):
            raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape}")
        one_of(boundary, "boundary", _BOUNDARIES)
        if kernel.ndim != len(shape):
            raise ValueError(f"kernel must have {len(shape)} dimensions to match shape {shape}, got {kernel.ndim}")
        if xp.isdtype(kernel.dtype, "complex floating") or xp.isdtype(kernel.dtype, "bool"):
            raise TypeError(f"kernel must be real, got dtype {kernel.dtype}")
        kernel = xp.astype(kernel, xp.float64)
        check_finite(kernel, "kernel")
        ksize = tuple(int(k) for k in kernel.shape)
        if boundary == "periodic" and any(k > n for k, n in zip(ksize, shape)):
            raise ValueError(f"kernel of shape {ksize} is larger than the image {shape}; use boundary='zero'")
        super().__init__(shape, shape, xp=xp)
        self.kernel = kernel
        self.boundary = boundary
        self.centre = tuple((k - 1) // 2 for k in ksize)
        if boundary == "periodic":
            self._fft_shape = shape
        else:
            self._fft_shape = tuple(_fast_length(n + k - 1) for n, k in zip(shape, ksize))
        self._spectra = {}

    # -- spectra ------------------------------------------------------------------------------
    def _embedded_kernel(self):
        """Kernel in a zero array of the FFT shape; for periodic boundary rolled so index c sits at 0."""
        xp = self.xp
        big = xp.zeros(self._fft_shape, dtype=xp.float64, device=array_api_compat.device(self.kernel))
        big[tuple(slice(0, k) for k in self.kernel.shape)] = self.kernel
        if self.boundary == "periodic":
            big = xp.roll(big, tuple(-c for c in self.centre), axis=tuple(range(big.ndim)))
        return big

    def transfer_function(self, dtype=None):
        r"""Fourier multiplier :math:`H = \mathcal F(k)` of the periodic convolution, shape ``shape``.

        With it, ``A(u) == xp.real(xp.fft.ifftn(H * xp.fft.fftn(u)))``, so Fourier-diagonal
        problems have closed-form solutions, e.g. Tikhonov deconvolution
        :math:`\hat u = \mathcal F^{-1}\big(\bar H \mathcal F y / (|H|^2 + \lambda)\big)`.

        Parameters
        ----------
        dtype : real dtype, optional
            float32 gives complex64, float64 (default) complex128.

        Raises
        ------
        ValueError
            For ``boundary="zero"``, which is not diagonal in Fourier space.
        """
        if self.boundary != "periodic":
            raise ValueError("transfer_function needs boundary='periodic', this operator has boundary='zero'")
        xp = self.xp
        H = xp.fft.fftn(xp.astype(self._embedded_kernel(), xp.complex128))
        return H if dtype in (None, xp.float64) else xp.astype(H, xp.complex64)

    def _half_spectrum(self, xp, dtype):
        """Half-plane (rfftn) spectrum of the embedded kernel in the complex dtype matching ``dtype``."""
        key = str(dtype)
        if key not in self._spectra:
            H = xp.fft.rfftn(self._embedded_kernel(), s=self._fft_shape, axes=tuple(range(len(self._fft_shape))))
            self._spectra[key] = H if dtype == xp.float64 else xp.astype(H, xp.complex64)
        return self._spectra[key]

    # -- application --------------------------------------------------------------------------
    def _namespace(self, x):
        xp = array_namespace(x, self.kernel)
        if not xp.isdtype(x.dtype, "real floating"):
            raise TypeError(f"Convolution acts on real float32/float64 arrays, got dtype {x.dtype}")
        return xp

    def _filter(self, x, conjugate):
        xp = self._namespace(x)
        H = self._half_spectrum(xp, x.dtype)
        if conjugate:
            H = xp.conj(H)
        axes = tuple(range(x.ndim))
        return xp.fft.irfftn(H * xp.fft.rfftn(x, s=self._fft_shape, axes=axes), s=self._fft_shape, axes=axes)

    def _forward(self, u):
        if self.boundary == "periodic":
            return self._filter(u, conjugate=False)
        full = self._filter(u, conjugate=False)  # u zero-padded at the end by rfftn's s=
        return full[tuple(slice(c, c + n) for c, n in zip(self.centre, self.shape_in))]

    def _adjoint(self, y):
        if self.boundary == "periodic":
            return self._filter(y, conjugate=True)
        # place y where the forward crop took it from, correlate, keep the image's support
        widths = [(c, F - c - n) for c, F, n in zip(self.centre, self._fft_shape, self.shape_in)]
        corr = self._filter(pad_edge(y, widths), conjugate=True)
        return corr[tuple(slice(0, n) for n in self.shape_in)]

    def _exact_norm(self):
        if self.boundary != "periodic":
            return None
        xp = self.xp
        return float(xp.max(xp.abs(self.transfer_function())))


Blur = Convolution


# ---------------------------------------------------------------------------------------------
# kernels: float64 arrays of odd size in the default backend, normalised to sum 1
# ---------------------------------------------------------------------------------------------
def _finish(k: np.ndarray):
    return asarray(k / k.sum(), xp=namespace(), dtype=namespace().float64)


def gaussian_kernel(sigma: float, size: int | None = None, ndim: int = 2):
    r"""Sampled isotropic Gaussian, normalised to sum 1.

    .. math::
        k_j \propto \exp\!\Big(-\frac{\|j - c\|^2}{2\sigma^2}\Big), \qquad c = (\text{size} - 1)/2.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    size : int, optional
        Odd side length; default :math:`2\lceil 3\sigma\rceil + 1`.
    ndim : int, default 2
        Number of dimensions of the kernel.
    """
    sigma = finite(sigma, "sigma", gt=0)
    ndim = positive_int(ndim, "ndim")
    size = 2 * math.ceil(3 * sigma) + 1 if size is None else size
    if int(size) != size or size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd int, got {size}")
    t = np.arange(int(size), dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(t**2) / (2.0 * sigma**2))
    k = g
    for _ in range(int(ndim) - 1):
        k = np.multiply.outer(k, g)  # separable: product of 1-D Gaussians
    return _finish(k)


def disk_kernel(radius: float, *, antialias: bool = False, supersample: int = 8):
    r"""Uniform disk (out-of-focus blur): the indicator of :math:`\|x - c\| \le r`, normalised.

    Parameters
    ----------
    radius : float
        Radius in pixels, >= 0 (0 gives the identity kernel ``[[1]]``).  Side length
        :math:`2\lceil r\rceil + 1`.
    antialias : bool, default False
        Weight each pixel by the fraction of its area inside the disk (estimated on a
        ``supersample`` × ``supersample`` grid per pixel) instead of testing its centre.
    """
    radius = finite(radius, "radius", ge=0)
    supersample = positive_int(supersample, "supersample")
    half = math.ceil(radius)
    t = np.arange(-half, half + 1, dtype=np.float64)
    if antialias and radius > 0:
        s = int(supersample)
        offsets = (np.arange(s) + 0.5) / s - 0.5
        fine = (t[:, None] + offsets[None, :]).ravel()
        inside = (fine[:, None] ** 2 + fine[None, :] ** 2) <= radius**2
        k = inside.reshape(t.size, s, t.size, s).mean(axis=(1, 3))
    else:
        k = ((t[:, None] ** 2 + t[None, :] ** 2) <= radius**2).astype(np.float64)
    return _finish(k)


def motion_kernel(length: float, angle: float = 0.0, *, samples_per_pixel: int = 16):
    r"""Linear motion blur: a line segment of ``length`` pixels through the centre, normalised.

    The segment :math:`\{c + t\,(-\sin\theta, \cos\theta) : |t| \le L/2\}` (row, column
    coordinates; :math:`\theta` = ``angle`` in degrees, counter-clockwise from the column axis
    as an image is displayed, rows pointing down) is integrated with the midpoint rule and each
    sample is spread over its four neighbouring pixels by bilinear weights, so lengths and
    angles are resolved below a pixel.  The kernel is point-symmetric about its centre.

    Parameters
    ----------
    length : float
        Length of the motion in pixels, >= 1.  Side length :math:`2\lceil L/2\rceil + 1`.
    angle : float, default 0
        Direction in degrees: 0 is horizontal (along columns), 90 vertical.
    samples_per_pixel : int, default 16
        Quadrature samples per pixel of length.
    """
    length = finite(length, "length", ge=1)
    angle = finite(angle, "angle")
    half = math.ceil(length / 2)
    size = 2 * half + 1
    m = max(2, math.ceil(length * samples_per_pixel))
    t = (np.arange(m) + 0.5) * (length / m) - length / 2
    theta = math.radians(angle)
    rows = half - t * math.sin(theta)
    cols = half + t * math.cos(theta)
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = rows - r0, cols - c0
    k = np.zeros((size + 1, size + 1))  # one spare row/column: floor + 1 may reach index size
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            np.add.at(k, ((r0 + dr).astype(int), (c0 + dc).astype(int)), wr * wc)
    k = k[:size, :size]  # weights there are exactly zero: |t| <= L/2 <= half
    return _finish(k)
