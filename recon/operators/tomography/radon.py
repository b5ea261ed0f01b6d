r"""Parallel-beam Radon transform of 2-D images with its exact adjoint (pixel-driven, linear interpolation).

The geometry (pixel centres, angles, detector bins) is that of :mod:`recon.operators.tomography.parallel`.

Discretisation
--------------
With :math:`t_{a,ij} = (x_j\cos\theta_a + y_i\sin\theta_a)/\Delta s + c` the fractional bin of pixel
:math:`(i, j)` at angle :math:`\theta_a` and the hat function :math:`\Lambda(r) = \max(0, 1 - |r|)`,

.. math::
    (Au)_{a,k} = \frac{1}{\Delta s}\sum_{i,j} u_{ij}\,\Lambda(\tilde t_{a,ij} - k), \qquad
    (A^*p)_{ij} = \frac{1}{\Delta s}\sum_{a,k} p_{a,k}\,\Lambda(\tilde t_{a,ij} - k),

where the detector position is kept in fixed point with :math:`L` = ``subbins`` steps per bin (default
:data:`SUBBINS`),

.. math::
    \tilde t_{a,ij} = \bigl(R_{a,i} + S_{a,j}\bigr)/L, \qquad
    R_{a,i} = \operatorname{rint}(Lc) + \operatorname{rint}\bigl(L\,y_i\sin\theta_a/\Delta s\bigr), \quad
    S_{a,j} = \operatorname{rint}\bigl(L\,x_j\cos\theta_a/\Delta s\bigr),

so :math:`|\tilde t - t| \le 3/(2L)` bin (GPU texture units interpolate with 8-bit fractions, the same
idea with :math:`L = 256`).  Each pixel's mass is split between the two nearest bins (pixel-driven
projection), so :math:`\Delta s \sum_k (Au)_{a,k} = \sum_{ij} u_{ij}` for every angle whose detector
covers the image: the sinogram holds line integrals in pixel units.  The adjoint is
linear-interpolation backprojection with the *same* positions and weights, hence the exact transpose of
:math:`A` (dot test at rounding level).  Pixels projecting off the detector contribute nothing.

Implementation: the position is affine in :math:`(i, j)`, so only the integers :math:`R` (angles x rows)
and :math:`S` (angles x columns) are stored; a pixel's flat index :math:`R_{a,i} + S_{a,j}` addresses a
fine detector of :math:`L` sub-bins per bin.  The backprojection of angle :math:`a` is then one gather
from the table :math:`T_a[kL + l] = (1 - l/L)\,p_{a,k} + (l/L)\,p_{a,k+1}` (the interpolated
projection on the fine detector), and the projection is its transpose: one scatter-add of the pixels
onto the fine detector (:func:`recon.backend.scatter_add_columns`) followed by the contraction
:math:`p_{a,k} = \sum_l (1 - l/L) F_{a,kL+l} + (l/L) F_{a,(k-1)L+l}`.  Angles related by a symmetry
of the pixel grid (:math:`\pi - \theta`, :math:`\theta + \pi/2`, ...: :mod:`recon.operators.tomography.symmetry`)
share their indices: their tables are gathered together, one row of up to eight values per pixel, and
the results moved to their pixels by flips and transposes once per call.  Uniform angles over
:math:`[0, \pi)` thus need one index computation and one gather per four angles on square images.
The backprojection also pairs each pixel with its point mirror, whose position is
:math:`2K - (R_{a,i} + S_{a,j})` (:math:`K` the rounded centre): one index reads a row of the table
and of its mirror, so only the top half of the rows is gathered (:func:`recon.backend.add_gathered`).
Angles and image rows are processed in chunks of a few MB; no matrix is formed, and besides input
and output only the :math:`R, S` arrays (per device) are stored.

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

from ..._checks import finite, positive_int
from ...backend import add_gathered, array_namespace, asarray, is_cupy, namespace, scatter_add_columns
from ..base import LinearOperator
from .parallel import SUBBINS, check_angles, check_image_shape, default_detectors
from .symmetry import orbits, pull, push

__all__ = ["Radon"]

# Elements (pixel-angle pairs, gathered values) per chunk.  CPU: a few MB, measured fastest at
# 256x256/180 and 512x512/720 angles between 2**14 and 2**18 (fewer Python steps beat smaller
# working sets); a GPU wants large kernels.
_CHUNK_CPU = 2**18
_CHUNK_GPU = 2**24


def _chunks(n, per_item, gpu, cpu=_CHUNK_CPU):
    """``[(i0, i1), ...]`` covering ``range(n)`` with about a chunk's worth (``cpu`` elements on the CPU) each."""
    size = max(1, (_CHUNK_GPU if gpu else cpu) // per_item)
    return [(i0, min(i0 + size, n)) for i0 in range(0, n, size)]


class Radon(LinearOperator):
    r"""2-D parallel-beam Radon transform :math:`A`, image ``shape`` -> sinogram ``(n_angles, n_detectors)``.

    See :mod:`~recon.operators.tomography.parallel` for the geometry and the module docstring for the
    discretisation,

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
    subbins : int, default :data:`SUBBINS`
        Fixed-point steps per detector bin, :math:`L \ge 2`: positions are exact to :math:`3/(2L)` bin.
        The fine tables hold :math:`L` entries per bin, so time and cache footprint grow with it
        (:func:`recon.ct.fbp` uses 32, where its own filter and interpolation error dominate).

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
                 subbins=SUBBINS):
        shape = check_image_shape(shape)
        theta = check_angles(angles, degrees)
        ds = finite(detector_spacing, "detector_spacing", gt=0)
        n_det = default_detectors(shape, ds) if n_detectors is None else positive_int(n_detectors, "n_detectors")
        # rounding moves positions by up to 3/(2L) bin, which the one spare guard bin absorbs for L >= 2
        if isinstance(subbins, bool) or not isinstance(subbins, (int, np.integer)) or subbins < 2:
            raise ValueError(f"subbins must be an int >= 2, got {subbins!r}")
        self._subbins = int(subbins)
        c = (n_det - 1) / 2.0 if center is None else finite(center, "center")
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
        # the rotation axis on the fine detector, rounded on its own (see _fixed_point)
        self._centre_subbin = int(np.rint(self._subbins * (c + self._offset)))
        self._positions = {}
        self._orbits = orbits(theta, square=shape[0] == shape[1])

    # -- geometry -----------------------------------------------------------------------------
    def _fixed_point(self, xp, device):
        """Integers ``R`` (angles x rows) and ``S`` (angles x columns) of the positions, on ``device``.

        ``R + S`` is a pixel's position on the fine detector of its angle, in sub-bins from the start
        of the extended detector: in ``[0, (length - 1) L)`` by the choice of the guard bins.
        """
        key = (xp.__name__, str(device))
        if key not in self._positions:
            ds, L = self.detector_spacing, self._subbins
            # the centre rounded on its own keeps R - K odd in y and S odd in x, like y sin and x cos: an orbit
            # member's positions, read off its first angle's (.symmetry), are then its own
            K = self._centre_subbin
            rows = K + np.rint(L * self._y[None, :] * (np.sin(self.angles) / ds)[:, None]).astype(np.int64)
            cols = np.rint(L * self._x[None, :] * (np.cos(self.angles) / ds)[:, None]).astype(np.int64)
            self._positions[key] = (asarray(rows, xp=xp, dtype=xp.int64), asarray(cols, xp=xp, dtype=xp.int64))
        return self._positions[key]

    @staticmethod
    def _check_dtype(x, name):
        xp = array_namespace(x)
        if not xp.isdtype(x.dtype, "real floating"):
            raise TypeError(f"Radon: {name} must be a real floating array, got dtype {x.dtype}")
        return xp

    def _hat(self, xp, dtype, transpose=False):
        """``(L, 2)`` matrix of the hat weights ``(1 - l/L, l/L)`` of the bins ``k``, ``k + 1`` around
        sub-bin ``l`` (or its ``(2, L)`` transpose, also contiguous).

        Products with it are kept small (one column at a time): OpenBLAS multithreads larger ones,
        which stalls on a machine whose other cores are busy."""
        frac = np.arange(self._subbins) / self._subbins
        hat = np.stack([1.0 - frac, frac], axis=0 if transpose else 1)
        return asarray(np.ascontiguousarray(hat), xp=xp, dtype=dtype)

    def _first_offsets(self, xp, device, first):
        """Row offsets ``(m, ny)`` and column positions ``(m, nx)`` of the angles ``first``: pixel
        ``(i, j)`` of angle ``first[q]`` sits at sub-bin ``offsets[q, i] + positions[q, j]``."""
        R, S = self._fixed_point(xp, device)
        angles = asarray(first, xp=xp, dtype=xp.int64)
        return xp.take(R, angles, axis=0), xp.take(S, angles, axis=0)

    def _first_indices(self, xp, device, first, r0, r1):
        """Fine-detector indices ``(m * (r1 - r0) * nx,)`` of rows ``r0:r1`` at the angles ``first``,
        into ``m`` consecutive fine detectors."""
        R, S = self._fixed_point(xp, device)
        angles = asarray(first, xp=xp, dtype=xp.int64)
        W = self._length * self._subbins
        start = xp.take(R, angles, axis=0)[:, r0:r1] + xp.reshape(
            xp.arange(first.size, dtype=xp.int64, device=device), (-1, 1)) * W
        return xp.reshape(start[:, :, None] + xp.take(S, angles, axis=0)[:, None, :], (-1,))

    # -- the transform ------------------------------------------------------------------------
    def _forward(self, u):
        xp = self._check_dtype(u, "x")
        device = array_api_compat.device(u)
        length, off, nd, L = self._length, self._offset, self.n_detectors, self._subbins
        ny, nx = self.shape_in
        rows, order = [], []
        for elements, members in self._orbits:
            c = len(elements)
            hat = self._hat(xp, u.dtype)
            # each member's pixels moved to where the first angle sees them, side by side
            images = xp.stack([xp.reshape(push(u, g), (-1,)) for g in elements], axis=1)
            for g0, g1 in _chunks(members.shape[0], max(ny * nx, length * L) * c, is_cupy(xp)):
                m = g1 - g0
                index = self._first_indices(xp, device, members[g0:g1, 0], 0, ny)
                mass = images if m == 1 else xp.reshape(xp.broadcast_to(images, (m, ny * nx, c)), (-1, c))
                fine = scatter_add_columns(index, mass, m * length * L)
                # (m, c, length, 2): what each bin keeps and what it passes to the next
                split = xp.stack([xp.reshape(fine[:, t], (m, length, L)) @ hat for t in range(c)], axis=1)
                zero = xp.zeros((m, c, 1), dtype=u.dtype, device=device)
                sino = xp.concat([split[..., 0], zero], axis=2) + xp.concat([zero, split[..., 1]], axis=2)
                rows.append(xp.reshape(sino[:, :, off:off + nd], (m * c, nd)))
                order.append(members[g0:g1].reshape(-1))
        sino = xp.concat(rows, axis=0)
        inverse = np.argsort(np.concatenate(order))
        sino = xp.take(sino, asarray(inverse, xp=xp, dtype=xp.int64), axis=0)
        return sino * (1.0 / self.detector_spacing) if self.detector_spacing != 1.0 else sino

    def _adjoint(self, p):
        xp = self._check_dtype(p, "y")
        device = array_api_compat.device(p)
        length, off, nd, L = self._length, self._offset, self.n_detectors, self._subbins
        ny, nx = self.shape_in
        W, K2 = length * L, 2 * self._centre_subbin
        # pixel (i, j) and its point mirror (ny-1-i, nx-1-j) sit at fine positions I and 2K - I (R - K is odd
        # in y, S odd in x): one index serves both, reading the table and its mirror T'[I] = T[2K - I].  Only
        # the top rows are gathered; the middle row of an odd image is its own mirror and keeps one half.
        top, low, high = ny - ny // 2, max(0, K2 - W + 1), min(W, K2 + 1)
        image = xp.zeros((ny, nx), dtype=p.dtype, device=device)
        for elements, members in self._orbits:
            c = len(elements)
            hat = self._hat(xp, p.dtype, transpose=True)
            # the class's projections gathered once (take() on a strided input would copy all of it), padded
            # onto the extended detector and paired with their right neighbours for the interpolation below
            picked = xp.take(p, asarray(members.reshape(-1), xp=xp, dtype=xp.int64), axis=0)
            padded = xp.zeros((members.shape[0] * c, length + 1), dtype=p.dtype, device=device)
            padded[:, off:off + nd] = picked
            pairs = xp.stack([padded[:, :length], padded[:, 1:]], axis=-1)
            offsets, positions = self._first_offsets(xp, device, members[:, 0])
            # the orbit's members, then their mirrors, accumulated side by side (last axis) at the first angle's pixels
            both = xp.zeros((top, nx, 2 * c), dtype=p.dtype, device=device)
            for g0, g1 in _chunks(members.shape[0], W * 2 * c, is_cupy(xp)):
                m = g1 - g0
                # the interpolated projections on the fine detector, T[k L + l] = (1 - l/L) p_k + (l/L) p_{k+1}
                fine = xp.reshape(pairs[g0 * c:g1 * c, ...] @ hat, (m, c, W))
                # one member per column so that a gathered row holds the whole orbit and its mirror
                table = xp.empty((m, W, 2 * c), dtype=p.dtype, device=device)
                table[:, :low, c:] = 0.0
                table[:, high:, c:] = 0.0
                for t in range(c):
                    table[:, :, t] = fine[:, t, :]
                    table[:, low:high, c + t] = xp.flip(fine[:, t, K2 - high + 1:K2 - low + 1], axis=-1)
                table = xp.reshape(table, (-1, 2 * c))
                # member q of the chunk reads the table's q-th block of W rows
                rows = offsets[g0:g1, :] + xp.reshape(xp.arange(m, dtype=xp.int64, device=device) * W, (-1, 1))
                # NumPy blocks the rows itself (add_gathered); chunks here bound the generic path's index array
                for r0, r1 in _chunks(top, m * nx * 2 * c, is_cupy(xp), cpu=8 * _CHUNK_CPU):
                    add_gathered(both, table, rows[:, r0:r1], positions[g0:g1, :], index=(slice(r0, r1), ...))
            for t, g in enumerate(elements):
                mirrored = xp.flip(both[:ny // 2, :, c + t], axis=(0, 1))
                image = image + pull(xp.concat([both[..., t], mirrored], axis=0), g)
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

