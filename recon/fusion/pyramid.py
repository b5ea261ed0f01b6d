r"""Coarse-to-fine start for the registration of :func:`recon.fuse`.

A warp estimated by PALM from a start far from the truth (several pixels, a few degrees) can stall
in a local minimum of the misfit: the linear interpolation and the fine texture give the misfit many
small basins.  On data and side information both averaged over 2×2 blocks the same warp is half as
many pixels away and the scene is smoother, so the coarse problem is solved first and its warp,
rescaled, starts the fine one (Lucas & Kanade 1981; Bergen et al. 1992 for the pyramid).

Geometry: a coarse pixel :math:`c` covers the fine pixels :math:`2c, 2c + 1`, so with positions measured
from the image centre (the :class:`~recon.operators.Warp` convention) :math:`p_\text{fine} = 2 p_\text{coarse}`
and :math:`(W u)(p) = u(Ap + b)` keeps :math:`A` and halves :math:`b` on the coarse grid.  With an odd
number of data rows (columns) the last one is dropped, which moves the coarse centre by
:math:`\delta` = ``factor / 2`` fine pixels towards the origin; then
:math:`b_\text{fine} = 2 b_\text{coarse} + (A - I)\delta`.

References
----------
Bergen, J. R., Anandan, P., Hanna, K. J., Hingorani, R. (1992). Hierarchical model-based motion
estimation. ECCV, 237-252.
"""
from __future__ import annotations

import numpy as np

from ..backend import array_namespace, asarray, to_numpy

__all__ = ["coarse_warp", "default_levels", "halve_kernel"]

# below this many data pixels on the smaller side the coarse level has too little to register
MIN_COARSE_DATA = 16
MAX_LEVELS = 3


def default_levels(data_shape, registration) -> int:
    """Levels while the coarsest data keep ``MIN_COARSE_DATA`` pixels on the smaller side.

    At most ``MAX_LEVELS``; 1 without registration.

    100×100 data get 3 (coarsest 25×25), 32×32 get 2, smaller data 1.
    """
    if registration is None:
        return 1
    levels, n = 1, min(data_shape)
    while levels < MAX_LEVELS and n // 2 >= MIN_COARSE_DATA:
        levels, n = levels + 1, n // 2
    return levels


def _halve(x):
    """Mean over 2×2 blocks of a 2-D array (a trailing odd row or column is dropped)."""
    xp = array_namespace(x)
    h, w = (n // 2 for n in x.shape[:2])
    return xp.mean(xp.reshape(x[: 2 * h, : 2 * w], (h, 2, w, 2)), axis=(1, 3))


def halve_kernel(kernel):
    r"""The kernel on the grid of half the resolution: odd size :math:`2\lceil r/2\rceil + 1` for radius :math:`r`.

    Each entry at offset :math:`o` from the centre moves to offset :math:`o/2`, split equally between
    the two neighbours when :math:`o` is odd, so the sum and the barycentre (halved) are kept.
    """
    k = to_numpy(kernel).astype(np.float64)
    r = k.shape[0] // 2
    rc = -(-r // 2)
    T = np.zeros((2 * rc + 1, k.shape[0]))
    for i, o in enumerate(range(-r, r + 1)):
        T[rc + o // 2, i] += 0.5 if o % 2 else 1.0
        T[rc + -(-o // 2), i] += 0.5 if o % 2 else 0.0
    out = T @ k @ T.T
    return asarray(out, xp=array_namespace(kernel), dtype=kernel.dtype)


def coarse_warp(fuse, data, side_info, factor, *, kernel, kernel_size, matrix0, levels, weight, **options):
    """The warp matrix [A | b] (fine pixels) found by ``fuse`` on a coarser problem.

    The data and side information are halved ``levels - 1`` times.

    ``None`` when the coarse problem would be too small (``kernel_size`` larger than the coarse image).
    ``weight`` is halved with the resolution, which keeps its balance with the misfit (the misfit of
    a 2×2 mean sums over 4 times fewer pixels, the total variation of a halved image is about half).
    """
    h, w = (n // 2 for n in data.shape)
    coarse_data = _halve(data)
    coarse_side = _halve(side_info[: 2 * factor * h, : 2 * factor * w])
    coarse_kernel = halve_kernel(kernel) if kernel is not None else None
    size = coarse_kernel.shape[0] if coarse_kernel is not None else 2 * -(-(kernel_size // 2) // 2) + 1
    if size > factor * min(h, w):
        return None
    # fine-pixel offset of the fine image centre from the coarse one (non-zero for odd data sides)
    delta = 0.5 * factor * np.array([n % 2 for n in data.shape[:2]], dtype=np.float64)
    start = None
    if matrix0 is not None:
        start = np.array(matrix0, dtype=np.float64)
        start[:, 2] = 0.5 * (start[:, 2] - (start[:, :2] - np.eye(2)) @ delta)
    res = fuse(coarse_data, coarse_side, factor, kernel=coarse_kernel, kernel_size=size, warp=start,
               levels=levels - 1, weight=weight * 0.5, **options)
    matrix = np.array(res.warp.matrix, dtype=np.float64)
    matrix[:, 2] = 2.0 * matrix[:, 2] + (matrix[:, :2] - np.eye(2)) @ delta
    return matrix
