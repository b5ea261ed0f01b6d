r"""Parallel-beam Radon transform of 2-D images with its exact adjoint (pixel-driven, linear interpolation).

Geometry
--------
An image of shape ``(ny, nx)`` has unit square pixels; pixel ``(i, j)`` (row, column) is centred at

.. math::
    x_j = j - \tfrac{n_x - 1}{2}, \qquad y_i = \tfrac{n_y - 1}{2} - i,

so :math:`x` points right, :math:`y` points *up* (row 0 is the top) and the rotation axis is the
centre of the image.  For the angle :math:`\theta` (radians) a ray is the line
:math:`x\cos\theta + y\sin\theta = s`: at :math:`\theta = 0` the rays run down the columns and
:math:`s = x`; at :math:`\theta = \pi/2` they run along the rows and :math:`s = y`.  Detector bin
:math:`k = 0, \dots, n_d - 1` is centred at :math:`s_k = (k - c)\,\Delta s` with ``center``
:math:`c` (default :math:`(n_d - 1)/2`) and ``detector_spacing`` :math:`\Delta s`.  The sinogram has
shape ``(n_angles, n_detectors)``.

This is the convention of ``skimage.transform.radon`` with angles in radians and the sinogram
transposed: for an odd, square image ``u`` (for which skimage's rotation centre, pixel ``n // 2``,
is the geometric centre) ``skimage.transform.radon(u, np.degrees(angles), circle=False).T`` matches
``Radon(u.shape, angles, n_detectors=...)(u)`` up to interpolation error; skimage's ``circle=True``
assumes the image is zero outside the inscribed circle and uses ``n_detectors = n``.

Discretisation
--------------
With :math:`t_{a,ij} = (x_j\cos\theta_a + y_i\sin\theta_a)/\Delta s + c` the fractional bin of pixel
:math:`(i, j)` at angle :math:`\theta_a` and the hat function :math:`\Lambda(r) = \max(0, 1 - |r|)`,

.. math::
    (Au)_{a,k} = \frac{1}{\Delta s}\sum_{i,j} u_{ij}\,\Lambda(t_{a,ij} - k), \qquad
    (A^*p)_{ij} = \frac{1}{\Delta s}\sum_{a,k} p_{a,k}\,\Lambda(t_{a,ij} - k).

Each pixel's mass is split between the two nearest bins (pixel-driven projection), so
:math:`\Delta s \sum_k (Au)_{a,k} = \sum_{ij} u_{ij}` for every angle whose detector covers the
image: the sinogram holds line integrals in pixel units.  The adjoint is linear-interpolation
backprojection with the *same* weights, hence the exact transpose of :math:`A` (dot test at
rounding level).  Pixels projecting off the detector contribute nothing.

Implementation: angles are processed in chunks; for each chunk the bins :math:`\lfloor t\rfloor`
and weights :math:`t - \lfloor t\rfloor` of all pixels are computed in float64 (weights then cast
to the working dtype), the forward projection is a scatter-add (:func:`recon.backend.scatter_add`)
and the backprojection a gather (``take``).  Bins and weights are cached after the second use
when they fit in ``cache_bytes``; no matrix is formed.

References
----------
Kak, A. C., Slaney, M. (1988). *Principles of Computerized Tomographic Imaging*. IEEE Press, ch. 3.
Natterer, F. (1986). *The Mathematics of Computerized Tomography*. Wiley.
De Man, B., Basu, S. (2004). Distance-driven projection and backprojection in three dimensions.
Phys. Med. Biol. 49 (discussion of pixel-driven projectors).
"""
from __future__ import annotations

import math

import array_api_compat
import numpy as np

from ..backend import array_namespace, asarray, is_cupy, namespace, scatter_add, to_numpy
from .base import LinearOperator

__all__ = ["Radon", "default_detectors", "check_angles", "filter_sinogram", "angular_weights", "FILTERS"]

# Elements (pixels x angles) per chunk: on the CPU ~1M keeps a chunk's bins and weights in cache-sized
# pieces (measured fastest at 256x256); a GPU wants large kernels.
_CHUNK_CPU = 2**20
_CHUNK_GPU = 2**24


def default_detectors(shape, detector_spacing: float = 1.0) -> int:
    """Smallest detector count whose bins cover every pixel at every angle: ``ceil(diagonal / Δs) + 1``.

    The diagonal is that of the image's bounding box, :math:`\\sqrt{n_x^2 + n_y^2}` pixels.
    """
    ny, nx = shape
    return int(math.ceil(math.hypot(nx, ny) / detector_spacing)) + 1


def _check_shape(shape):
    try:
        shape = tuple(int(n) for n in shape)
    except TypeError:
        raise ValueError(f"shape must be a pair of positive ints, got {shape!r}") from None
    if len(shape) != 2 or any(n < 1 for n in shape):
        raise ValueError(f"shape must be a pair of positive ints, got {shape!r}")
    return shape


def check_angles(angles, degrees: bool = False) -> np.ndarray:
    """Angles as a 1-D float64 NumPy array in radians; raise ``ValueError`` naming ``angles`` if bad."""
    try:
        theta = np.asarray(to_numpy(angles) if hasattr(angles, "shape") else angles, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"angles must be a 1-D sequence of numbers, got {angles!r}") from None
    theta = np.atleast_1d(theta)
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"angles must be a non-empty 1-D sequence, got shape {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("angles contains NaN or infinity")
    return np.deg2rad(theta) if degrees else theta


class Radon(LinearOperator):
    r"""2-D parallel-beam Radon transform :math:`A`, image ``shape`` -> sinogram ``(n_angles, n_detectors)``.

    See the module docstring for the geometry and the discretisation,

    .. math::
        (Au)_{a,k} = \frac{1}{\Delta s}\sum_{i,j} u_{ij}\,\Lambda\!\Bigl(
            \frac{x_j\cos\theta_a + y_i\sin\theta_a}{\Delta s} + c - k\Bigr),
        \qquad \Lambda(r) = \max(0, 1 - |r|),

    and :meth:`adjoint` is its exact transpose (linear-interpolation backprojection).

    Parameters
    ----------
    shape : (int, int)
        Image shape ``(ny, nx)``; any sizes, odd or even, square or not.
    angles : 1-D array_like
        Projection angles, radians (degrees with ``degrees=True``); any order, repeats allowed.
    n_detectors : int, optional
        Number of detector bins; default :func:`default_detectors` (covers the image diagonal).
    detector_spacing : float, default 1
        Bin width :math:`\Delta s` in pixel units.
    center : float, optional
        Fractional bin index :math:`c` on which the rotation axis projects; default
        :math:`(n_d - 1)/2`, the middle of the detector.
    degrees : bool, default False
        ``angles`` are in degrees.
    cache_bytes : int, default 2**29
        Bins and weights of all angles are kept (per dtype and device) from the second application
        on when they need at most this many bytes (12 per pixel and angle in float32, 16 in
        float64); otherwise they are recomputed chunk by chunk at every call.

    Notes
    -----
    Inputs must be real floating arrays; the result has their dtype, library and device.
    :meth:`norm` is computed by power iteration from the constant image and is an upper bound
    (Collatz–Wielandt), safe for step sizes.

    Examples
    --------
    >>> import numpy as np
    >>> A = Radon((5, 7), np.linspace(0, np.pi, 4, endpoint=False))
    >>> A.shape_out
    (4, 10)
    >>> bool(np.allclose(A(np.ones((5, 7))).sum(axis=1), 35.0))  # every angle sees the total mass
    True
    """

    def __init__(self, shape, angles, *, n_detectors=None, detector_spacing=1.0, center=None, degrees=False,
                 cache_bytes=2**29):
        shape = _check_shape(shape)
        theta = check_angles(angles, degrees)
        ds = float(detector_spacing)
        if not (math.isfinite(ds) and ds > 0):
            raise ValueError(f"detector_spacing must be a finite number > 0, got {detector_spacing!r}")
        if n_detectors is None:
            n_det = default_detectors(shape, ds)
        elif isinstance(n_detectors, bool) or not isinstance(n_detectors, (int, np.integer)) or n_detectors < 1:
            raise ValueError(f"n_detectors must be a positive int, got {n_detectors!r}")
        else:
            n_det = int(n_detectors)
        c = (n_det - 1) / 2.0 if center is None else float(center)
        if not math.isfinite(c):
            raise ValueError(f"center must be a finite number, got {center!r}")
        super().__init__(shape, (theta.size, n_det))
        self.angles, self.detector_spacing, self.center = theta, ds, c
        self.n_detectors = n_det
        ny, nx = shape
        self._x = np.arange(nx) - (nx - 1) / 2.0
        self._y = (ny - 1) / 2.0 - np.arange(ny)
        # Extended detector: pixels landing off the real detector are splat onto guard bins that are
        # cropped away, so the hot loops need no masks.  One spare bin on each side absorbs rounding.
        reach = (abs(self._x[0]) * np.abs(np.cos(theta)) + abs(self._y[0]) * np.abs(np.sin(theta))) / ds
        self._offset = max(0, -math.floor(c - float(reach.max()))) + 1
        self._length = max(n_det + self._offset, math.floor(c + float(reach.max())) + self._offset + 3)
        self.cache_bytes = int(cache_bytes)
        self._cache, self._uses = {}, {}

    # -- geometry -----------------------------------------------------------------------------
    def _chunks(self, xp):
        per_angle = self.shape_in[0] * self.shape_in[1]
        size = max(1, (_CHUNK_GPU if is_cupy(xp) else _CHUNK_CPU) // per_angle)
        n = self.shape_out[0]
        return [(a0, min(a0 + size, n)) for a0 in range(0, n, size)]

    def _chunk_geometry(self, xp, device, dtype, a0, a1):
        """Flat bin indices into the ``(a1 - a0) * length`` extended chunk, and interpolation weights."""
        theta = self.angles[a0:a1]
        ds, m = self.detector_spacing, a1 - a0
        row_start = self.center + self._offset + self._length * np.arange(m)
        cols = self._x[None, :] * (np.cos(theta) / ds)[:, None]
        rows = self._y[None, :] * (np.sin(theta) / ds)[:, None] + row_start[:, None]
        cols = asarray(cols, xp=xp, dtype=xp.float64)
        rows = asarray(rows, xp=xp, dtype=xp.float64)
        t = xp.reshape(cols[:, None, :] + rows[:, :, None], (-1,))
        floor = xp.floor(t)
        return xp.astype(floor, xp.int64), xp.astype(t - floor, dtype)

    def _geometry(self, xp, x):
        """``[(a0, a1, bins, weights), ...]`` for the namespace, device and dtype of ``x``."""
        device = array_api_compat.device(x)
        key = (xp.__name__, str(device), str(x.dtype))
        if key in self._cache:
            return self._cache[key]
        chunks = self._chunks(xp)
        per_element = 8 + (4 if x.dtype == xp.float32 else 8)
        fits = self.shape_out[0] * self.shape_in[0] * self.shape_in[1] * per_element <= self.cache_bytes
        self._uses[key] = self._uses.get(key, 0) + 1
        if fits and self._uses[key] >= 2:
            # a one-off use (FBP) should not pay for storing what it reads once
            self._cache[key] = [(a0, a1) + self._chunk_geometry(xp, device, x.dtype, a0, a1) for a0, a1 in chunks]
            return self._cache[key]
        return ((a0, a1) + self._chunk_geometry(xp, device, x.dtype, a0, a1) for a0, a1 in chunks)

    # -- the transform ------------------------------------------------------------------------
    @staticmethod
    def _check_dtype(x, name):
        xp = array_namespace(x)
        if not xp.isdtype(x.dtype, "real floating"):
            raise TypeError(f"Radon: {name} must be a real floating array, got dtype {x.dtype}")
        return xp

    def _forward(self, u):
        xp = self._check_dtype(u, "x")
        L, off, nd = self._length, self._offset, self.n_detectors
        flat = xp.reshape(u, (1, -1))
        parts = []
        for a0, a1, bins, weights in self._geometry(xp, u):
            m = a1 - a0
            mass = xp.reshape(xp.broadcast_to(flat, (m, flat.shape[1])), (-1,))
            # bin k gets u (1 - w), bin k + 1 gets u w:  out = A - B + shift(B), A = Σ u, B = Σ u w
            whole = scatter_add(bins, mass, m * L)
            upper = scatter_add(bins, mass * weights, m * L)
            shifted = xp.concat([xp.zeros((1,), dtype=upper.dtype, device=upper.device), upper[:-1]])
            parts.append(xp.reshape(whole - upper + shifted, (m, L))[:, off:off + nd])
        sino = parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
        return sino * (1.0 / self.detector_spacing) if self.detector_spacing != 1.0 else sino

    def _adjoint(self, p):
        xp = self._check_dtype(p, "y")
        L, off, nd = self._length, self._offset, self.n_detectors
        ny, nx = self.shape_in
        image = xp.zeros((ny * nx,), dtype=p.dtype, device=array_api_compat.device(p))
        for a0, a1, bins, weights in self._geometry(xp, p):
            m = a1 - a0
            padded = xp.zeros((m, L + 1), dtype=p.dtype, device=array_api_compat.device(p))
            padded[:, off:off + nd] = p[a0:a1, :]
            value = xp.reshape(padded[:, :L], (-1,))
            slope = xp.reshape(padded[:, 1:] - padded[:, :L], (-1,))
            # p(k + w) = p_k + w (p_{k+1} - p_k): one gather of values, one of slopes
            interp = xp.take(value, bins) + weights * xp.take(slope, bins)
            image = image + xp.sum(xp.reshape(interp, (m, ny * nx)), axis=0)
        image = xp.reshape(image, (ny, nx))
        return image * (1.0 / self.detector_spacing) if self.detector_spacing != 1.0 else image

    # -- norm ---------------------------------------------------------------------------------
    def norm(self, *, iters: int = 200, rtol: float = 1e-4, seed: int = 0, recompute: bool = False) -> float:
        r"""Upper bound on :math:`\|A\|` within relative ``rtol`` of it, by power iteration, cached.

        :math:`M = A^*A` has non-negative entries and the iterates :math:`x_{k+1} = Mx_k` from
        :math:`x_0 = 1` stay positive on the pixels the detector sees, so by Collatz–Wielandt
        :math:`x^\top Mx / x^\top x \le \lambda_{\max}(M) \le \max_i (Mx)_i / x_i`.  The iteration
        stops when the two bounds agree to ``rtol`` and returns the square root of the upper one
        (computed in float32; a factor :math:`1 + 10^{-5}` covers its rounding).  ``seed`` is unused
        (the start is deterministic); after ``iters`` steps the current upper bound is returned.
        """
        if self._norm is not None and not recompute:
            return self._norm
        xp = self.xp if self.xp is not None else namespace()
        x = xp.ones(self.shape_in, dtype=xp.float32)
        upper = math.inf
        for _ in range(iters):
            z = self._adjoint(self._forward(x))
            seen = x > 0
            rayleigh = float(xp.sum(x * z)) / float(xp.sum(x * x))
            ratio = xp.where(seen, z / xp.where(seen, x, 1.0), 0.0)
            upper = min(upper, float(xp.max(ratio)))
            if upper <= rayleigh * (1.0 + rtol):
                break
            x = z * (1.0 / float(xp.max(z)))
        self._norm = math.sqrt(upper * (1.0 + 1e-5))
        return self._norm

    def __repr__(self):
        return (f"Radon({self.shape_in} -> {self.shape_out}, detector_spacing={self.detector_spacing}, "
                f"center={self.center})")


# ---------------------------------------------------------------------------------------------
# filtered backprojection: ramp filters and angular quadrature
# ---------------------------------------------------------------------------------------------
FILTERS = ("ram-lak", "shepp-logan", "cosine", "hamming", "hann")


def _window(name, f):
    """Apodisation of the ramp at frequency ``f`` (cycles per bin, ``0 <= f <= 1/2``)."""
    if name == "ram-lak":
        return np.ones_like(f)
    if name == "shepp-logan":
        return np.sinc(f)  # sin(pi f) / (pi f)
    if name == "cosine":
        return np.cos(np.pi * f)
    if name == "hamming":
        return 0.54 + 0.46 * np.cos(2.0 * np.pi * f)
    return 0.5 + 0.5 * np.cos(2.0 * np.pi * f)  # hann


def filter_sinogram(sinogram, filter: str = "ram-lak", *, padding: bool = True):
    r"""Ramp-filter each projection (rows of ``sinogram``) for filtered backprojection.

    The ramp :math:`|\nu|` is discretised in the spatial domain (Kak & Slaney 1988, eq. 3.61), for
    unit bin width,

    .. math::
        h_0 = \tfrac14, \qquad h_n = -\frac{1}{\pi^2 n^2}\ (n \text{ odd}), \qquad h_n = 0\ (n \ne 0 \text{ even}),

    which, unlike sampling :math:`|\nu|` in frequency, has no DC offset.  Its transform is multiplied
    by a window :math:`W(\nu)`, :math:`\nu \in [0, \tfrac12]` cycles per bin: ``"ram-lak"`` 1,
    ``"shepp-logan"`` :math:`\operatorname{sinc}\nu`, ``"cosine"`` :math:`\cos\pi\nu`, ``"hamming"``
    :math:`0.54 + 0.46\cos 2\pi\nu`, ``"hann"`` :math:`\tfrac12(1 + \cos 2\pi\nu)`.  The result is the
    convolution :math:`q = h * p` (a sum over bins; divide by :math:`\Delta s` for the integral).

    Parameters
    ----------
    sinogram : array, shape (n_angles, n_detectors)
        Real floating; the result has its dtype, library and device.
    filter : str
        One of :data:`FILTERS`.
    padding : bool, default True
        Zero-pad each projection to a power of two :math:`\ge 2 n_d` so the FFT convolution does not
        wrap around; without it the convolution is circular on ``n_detectors`` bins.
    """
    if filter not in FILTERS:
        raise ValueError(f"filter must be one of {FILTERS}, got {filter!r}")
    xp = array_namespace(sinogram)
    n_det = sinogram.shape[-1]
    size = max(64, 2 ** math.ceil(math.log2(2 * n_det))) if padding else n_det
    n = np.arange(size)
    n = np.minimum(n, size - n)  # circular distance, so h is even
    h = np.zeros(size)
    h[0] = 0.25
    odd = n % 2 == 1
    h[odd] = -1.0 / (np.pi * n[odd]) ** 2
    response = np.fft.rfft(h).real * _window(filter, np.fft.rfftfreq(size))
    response = asarray(response, xp=xp, dtype=sinogram.dtype)
    spectrum = xp.fft.rfft(sinogram, n=size, axis=-1)
    return xp.fft.irfft(spectrum * response, n=size, axis=-1)[..., :n_det]


def angular_weights(angles) -> np.ndarray:
    r"""Quadrature weights :math:`\Delta\theta_a` for :math:`\int_0^\pi \cdot\, d\theta` at the given angles.

    Angles are reduced modulo :math:`\pi` (a ray at :math:`\theta + \pi` is the ray at :math:`\theta`
    reversed) and sorted; each gets half of the gaps to its two neighbours (cyclically), the
    trapezoidal rule.  A gap wider than :math:`2\pi/N` (:math:`N` angles) is a missing wedge
    (limited-angle data) and gets no weight, so the angles at its ends weigh half.  Uniform angles
    over :math:`[0, \pi)` or :math:`[0, 2\pi)` get :math:`\pi/N` each.
    """
    theta = check_angles(angles)
    reduced = np.mod(theta, np.pi)
    order = np.argsort(reduced, kind="stable")
    s = reduced[order]
    gaps = np.diff(np.concatenate([s, [s[0] + np.pi]]))  # gaps[i]: from s[i] to the next angle
    gaps[gaps > 2.0 * np.pi / theta.size * (1.0 + 1e-9)] = 0.0
    weights = np.empty_like(theta)
    weights[order] = 0.5 * (gaps + np.roll(gaps, 1))
    return weights
