r"""Affine warps of 2-D images with bilinear interpolation, and their derivative in the warp parameters.

Convention: for the 2×3 matrix :math:`[A \mid b]`,

.. math::
    (W u)(p) = u(A p + b), \qquad p = (\text{row}, \text{col}) - c,
    \quad c = \bigl(\tfrac{n_0 - 1}{2}, \tfrac{n_1 - 1}{2}\bigr),

positions in pixels measured from the image centre.  :math:`u` is evaluated between pixels by
bilinear interpolation and is zero outside the image.  For fixed :math:`[A \mid b]`, :math:`W` is
linear in :math:`u` (a sparse matrix with four weights per row); its adjoint scatters each output
back onto the four pixels it was read from.  A rigid warp has :math:`A = R(\alpha)`, a rotation by
``angle`` :math:`\alpha`, and ``shift`` :math:`b`: ``Warp.rigid(shape, angle, shift)``.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace, scatter_add
from .base import LinearOperator

__all__ = ["Warp", "rotation"]


def rotation(angle: float) -> np.ndarray:
    r"""The 2×2 rotation matrix in (row, col) coordinates.

    :math:`R(\alpha) = \begin{pmatrix}\cos\alpha & -\sin\alpha\\ \sin\alpha & \cos\alpha\end{pmatrix}`.
    """
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def _check_matrix(matrix):
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (2, 3):
        raise ValueError(f"matrix must be 2x3 ([A | b]), got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"matrix must be finite, got {m.tolist()}")
    return m


class Warp(LinearOperator):
    r"""Affine warp :math:`(W u)(p) = u(A p + b)` with bilinear interpolation (zero outside the image).

    Parameters
    ----------
    shape : tuple of two ints
        Image shape (input and output).
    matrix : array_like, shape (2, 3), default identity
        :math:`[A \mid b]` in (row, col) pixel coordinates from the centre :math:`((n-1)/2)`.  Held as
        float64 NumPy (six numbers of host data); the sample grid is built in the input's library.

    Attributes
    ----------
    matrix : ndarray (2, 3)
    angle, shift
        For a rigid warp (``Warp.rigid``): :math:`\alpha = \operatorname{atan2}(A_{10}, A_{00})` and
        :math:`b`.

    Notes
    -----
    :math:`W` is exactly linear in :math:`u`, and :meth:`adjoint` is its exact transpose.  In the
    parameters it is piecewise quadratic (bilinear in the sample point within each pixel cell), and
    :meth:`derivative` is its exact derivative away from cell boundaries.  :math:`\|W\|` is about
    :math:`1/\sqrt{|\det A|}` (the power method of :meth:`norm` estimates it).
    """

    def __init__(self, shape, matrix=None):
        shape = tuple(int(n) for n in shape)
        if len(shape) != 2 or any(n < 1 for n in shape):
            raise ValueError(f"shape must be two positive ints, got {shape}")
        super().__init__(shape, shape)
        self.matrix = _check_matrix(np.hstack([np.eye(2), np.zeros((2, 1))]) if matrix is None else matrix)
        self._grids = {}

    @classmethod
    def rigid(cls, shape, angle: float = 0.0, shift=(0.0, 0.0)) -> Warp:
        """Rotation by ``angle`` (radians) about the centre, then ``shift`` (rows, cols).

        That is :math:`A = R(\\alpha)` and :math:`b` = shift.
        """
        shift = np.asarray(shift, dtype=np.float64)
        if shift.shape != (2,) or not np.all(np.isfinite(shift)) or not math.isfinite(angle):
            raise ValueError(f"angle must be finite and shift two finite numbers, got {angle}, {shift.tolist()}")
        return cls(shape, np.hstack([rotation(angle), shift[:, None]]))

    @property
    def angle(self) -> float:
        return math.atan2(self.matrix[1, 0], self.matrix[0, 0])

    @property
    def shift(self) -> np.ndarray:
        return self.matrix[:, 2].copy()

    # -- sample grid ----------------------------------------------------------------------------
    def _grid(self, xp, dtype, device):
        """Flat neighbour indices and bilinear weights (zero for neighbours outside), per library and dtype."""
        key = (xp.__name__, str(dtype), str(device))
        if key in self._grids:
            return self._grids[key]
        n0, n1 = self.shape_in
        f64 = xp.float64
        pr = xp.astype(xp.arange(n0, device=device), f64) - (n0 - 1) / 2
        pc = xp.astype(xp.arange(n1, device=device), f64) - (n1 - 1) / 2
        pr, pc = xp.meshgrid(pr, pc, indexing="ij")
        (a00, a01, b0), (a10, a11, b1) = (tuple(float(v) for v in row) for row in self.matrix)
        qr = a00 * pr + a01 * pc + b0 + (n0 - 1) / 2
        qc = a10 * pr + a11 * pc + b1 + (n1 - 1) / 2
        r0, c0 = xp.floor(qr), xp.floor(qc)
        fr, fc = qr - r0, qc - c0
        r0, c0 = xp.astype(r0, xp.int64), xp.astype(c0, xp.int64)
        corners = []
        for dr, wr in ((0, 1.0 - fr), (1, fr)):
            for dc, wc in ((0, 1.0 - fc), (1, fc)):
                r, c = r0 + dr, c0 + dc
                inside = (r >= 0) & (r < n0) & (c >= 0) & (c < n1)
                index = xp.where(inside, r * n1 + c, xp.zeros_like(r))
                weight = xp.where(inside, wr * wc, xp.zeros_like(wr))
                corners.append((xp.reshape(index, (-1,)), xp.astype(xp.reshape(weight, (-1,)), dtype),
                                xp.reshape(xp.astype(inside, dtype), (-1,))))
        grid = {"corners": corners, "fr": xp.astype(fr, dtype), "fc": xp.astype(fc, dtype),
                "pr": xp.astype(pr, dtype), "pc": xp.astype(pc, dtype)}
        self._grids = {key: grid}  # one library/dtype at a time
        return grid

    def _forward(self, u):
        xp = array_namespace(u)
        flat = xp.reshape(u, (-1,))
        out = None
        for index, weight, _ in self._grid(xp, u.dtype, u.device)["corners"]:
            term = weight * xp.take(flat, index)
            out = term if out is None else out + term
        return xp.reshape(out, self.shape_out)

    def _adjoint(self, y):
        xp = array_namespace(y)
        flat = xp.reshape(y, (-1,))
        corners = self._grid(xp, y.dtype, y.device)["corners"]
        index = xp.concat([c[0] for c in corners])
        values = xp.concat([c[1] * flat for c in corners])
        return xp.reshape(scatter_add(index, values, math.prod(self.shape_in)), self.shape_in)

    def _norm_dtype(self, xp):
        return xp.float64

    # -- derivative in the parameters ------------------------------------------------------------
    def derivative(self, u) -> LinearOperator:
        r"""The derivative of :math:`[A\mid b] \mapsto W_{A,b}\,u` at this warp.

        It is a linear map from (2, 3) arrays to images:

        .. math::
            \frac{d}{d\varepsilon} W_{M + \varepsilon\Delta} u \Big|_{\varepsilon=0}
            = \partial_r \tilde u(q)\,(\Delta_{00} p_r + \Delta_{01} p_c + \Delta_{02})
            + \partial_c \tilde u(q)\,(\Delta_{10} p_r + \Delta_{11} p_c + \Delta_{12}),

        with :math:`\tilde u` the bilinear interpolant and :math:`q = A p + b`.  Its adjoint (``.T``)
        maps an image :math:`r` to the gradient of :math:`\langle r, W u\rangle` in the six parameters,
        which registration uses.
        """
        self._check(u, self.shape_in, "u")
        return _ParameterDerivative(self, u)

    def __repr__(self):
        return f"Warp({self.shape_in}, matrix={self.matrix.tolist()})"


class _ParameterDerivative(LinearOperator):
    """``Delta (2x3) -> d/de W_{M + e Delta} u`` at fixed ``u``; see :meth:`Warp.derivative`."""

    def __init__(self, warp, u):
        xp = array_namespace(u)
        super().__init__((2, 3), warp.shape_in, xp=xp)
        grid = warp._grid(xp, u.dtype, u.device)
        flat = xp.reshape(u, (-1,))
        # neighbour values u00, u01, u10, u11 (zero outside, as in the forward map)
        (i00, _, m00), (i01, _, m01), (i10, _, m10), (i11, _, m11) = grid["corners"]
        shp = warp.shape_in
        u00, u01 = xp.reshape(m00 * xp.take(flat, i00), shp), xp.reshape(m01 * xp.take(flat, i01), shp)
        u10, u11 = xp.reshape(m10 * xp.take(flat, i10), shp), xp.reshape(m11 * xp.take(flat, i11), shp)
        fr, fc = grid["fr"], grid["fc"]
        self.gr = (1.0 - fc) * (u10 - u00) + fc * (u11 - u01)
        self.gc = (1.0 - fr) * (u01 - u00) + fr * (u11 - u10)
        self.pr, self.pc = grid["pr"], grid["pc"]

    def _forward(self, delta):
        d = delta
        return (self.gr * (d[0, 0] * self.pr + d[0, 1] * self.pc + d[0, 2])
                + self.gc * (d[1, 0] * self.pr + d[1, 1] * self.pc + d[1, 2]))

    def _adjoint(self, y):
        xp = array_namespace(y)
        rows = []
        for g in (self.gr, self.gc):
            gy = g * y
            rows.append(xp.stack([xp.sum(gy * self.pr), xp.sum(gy * self.pc), xp.sum(gy)]))
        return xp.stack(rows)

    def _norm_dtype(self, xp):
        return self.gr.dtype
