r"""The NumPy path of :class:`~recon.operators.MultiConvolution`: padded planes, row blocks, one BLAS product a block.

Every layer's input lives in a *padded plane*: channel :math:`c` of an :math:`H \times W` image is
stored row by row with :math:`R` zero columns on each side and :math:`R` zero rows above and below
(:math:`R` the largest kernel radius), so a row of the plane has :math:`W_p = W + 2R` entries.
Flattened, the correlation tap :math:`(a, b)` of a layer of radius :math:`r` is a constant offset,

.. math::
    u_c[y + a - r,\; x + b - r] = P_c\bigl[q + (a - r + R) W_p + (b - r + R)\bigr],
    \qquad q = y W_p + x,

so on the grid :math:`q` (which carries :math:`2R` unused columns a row) the shifted copies of a
block of rows are plain contiguous slices: im2col is one copy a tap and channel, and the layer's
matrix product writes its block straight into the next layer's plane, at offset :math:`R W_p + R`.
The unused columns land in that plane's padding, which is zeroed once the layer is done.  The
adjoint runs the same grid backwards: the transposed product of a block, then col2im adds each
tap's row into the plane it came from (the contributions that fall into the padding are the
transpose of the zero padding, and are dropped).

:func:`sandwich` computes :math:`W^\top f(Wx)` with the last layer, ``f`` and the last
adjoint layer fused block by block, so the widest array (60 channels for the published models)
only ever exists one block of rows at a time, in cache.  Buffers are kept per image size and
dtype in a :class:`Planes` object; the operator keeps a small pool of them so concurrent calls
from several threads each get their own.
"""
from __future__ import annotations

import numpy as np

from ..backend import compiled

__all__ = ["Planes", "usable", "forward", "adjoint", "sandwich"]

# Row blocks hold about this many elements of shifted copies (512k: 2 MB in float32), so a block's
# copies, product and col2im stay in a core's L2/L3 (measured best at 4-8 rows of 512 for 8 -> 60).
_BLOCK_ELEMENTS = 1 << 19


def _im2col(src, q0, offsets, cols):
    """``cols[c T + t, j] = src[c, q0 + offsets[t] + j]`` (``T`` taps, ``j < cols.shape[1]``)."""
    taps = offsets.shape[0]
    n = cols.shape[1]
    for c in range(src.shape[0]):
        for t in range(taps):
            # slices first: indexing with j from range() alone lets LLVM drop the negative-index
            # test and vectorise (about 8x faster than src[c, o + j])
            s = src[c, q0 + offsets[t] : q0 + offsets[t] + n]
            d = cols[c * taps + t]
            for j in range(n):
                d[j] = s[j]


def _col2im(z, q0, offsets, dst):
    """``dst[c, q0 + offsets[t] + j] += z[c T + t, j]``: the transpose of :func:`_im2col`."""
    taps = offsets.shape[0]
    n = z.shape[1]
    for c in range(dst.shape[0]):
        for t in range(taps):
            d = dst[c, q0 + offsets[t] : q0 + offsets[t] + n]
            s = z[c * taps + t]
            for j in range(n):
                d[j] += s[j]


_im2col_kernel = compiled(_im2col)
_col2im_kernel = compiled(_col2im)


def usable(x, kernels) -> bool:
    """Whether this path applies: NumPy arrays (image and kernels) of float32 or float64."""
    return type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and all(
        type(k) is np.ndarray for k in kernels)


class Planes:
    """Padded planes and scratch for one operator, image size and dtype (see the module notes).

    Parameters
    ----------
    kernels : list of NumPy arrays ``(c_l, c_{l-1}, K_l, K_l)``
    shape : (H, W)
    dtype : numpy dtype (float32 or float64)
    """

    def __init__(self, kernels, shape, dtype):
        self.dtype = np.dtype(dtype)
        self.h, self.w = shape
        self.pad = max(k.shape[2] for k in kernels) // 2
        self.wp = self.w + 2 * self.pad
        # the taps of the last rows reach 2R entries past the last padded row
        size = (self.h + 2 * self.pad) * self.wp + 2 * self.pad
        self.mats, self.mats_t, self.offsets, self.rows = [], [], [], []
        for k in kernels:
            m = np.asarray(k, dtype=self.dtype).reshape(k.shape[0], -1)
            self.mats.append(m)
            self.mats_t.append(np.ascontiguousarray(m.T))
            K, r, R = k.shape[2], k.shape[2] // 2, self.pad
            self.offsets.append(np.array([(a - r + R) * self.wp + (b - r + R) for a in range(K) for b in range(K)],
                                         dtype=np.int64))
            self.rows.append(max(1, min(self.h, _BLOCK_ELEMENTS // (m.shape[1] * self.wp))))
        self.channels = [kernels[0].shape[1]] + [k.shape[0] for k in kernels]
        # inputs[l]: the input of layer l; accum[l]: the adjoint of layer l accumulates here
        self.inputs = [np.zeros((c, size), self.dtype) for c in self.channels[:-1]]
        self.accum = [np.zeros((c, size), self.dtype) for c in self.channels[:-1]]
        cols = max(m.shape[1] * rows for m, rows in zip(self.mats, self.rows))
        self.cols = np.empty(cols * self.wp, self.dtype)
        self.block = np.empty(self.channels[-1] * self.rows[-1] * self.wp, self.dtype)

    # -- planes -------------------------------------------------------------------------------
    def _grid(self, plane):
        """``plane`` as ``(c, H + 2R, W_p)`` (a view)."""
        return plane[:, : (self.h + 2 * self.pad) * self.wp].reshape(plane.shape[0], -1, self.wp)

    def interior(self, plane):
        R = self.pad
        return self._grid(plane)[:, R : R + self.h, R : R + self.w]

    def _zero_columns(self, plane):
        """Zero the padding columns, where a layer's unused grid columns land.

        The rows above and below are never written in an input plane, and never read from an
        accumulator (a layer reads its source at offsets ``R W_p + R + q``, ``q < H W_p``).
        """
        g = self._grid(plane)
        g[:, :, : self.pad] = 0
        g[:, :, self.pad + self.w :] = 0

    def _blocks(self, layer):
        """``(q0, rows, L)`` of each row block of ``layer``: grid start, row count, grid length."""
        step = self.rows[layer]
        for r0 in range(0, self.h, step):
            n = min(step, self.h - r0)
            yield r0 * self.wp, n, n * self.wp

    # -- one block ----------------------------------------------------------------------------
    def _columns(self, layer, q0, length):
        """The shifted copies of the block at ``q0``: ``(c_in K^2, length)``."""
        src, offsets = self.inputs[layer], self.offsets[layer]
        cols = self.cols[: offsets.size * src.shape[0] * length].reshape(-1, length)
        if _im2col_kernel is not None:
            _im2col_kernel(src, q0, offsets, cols)
        else:
            cols3 = cols.reshape(src.shape[0], offsets.size, length)
            for t, o in enumerate(offsets.tolist()):
                cols3[:, t] = src[:, q0 + o : q0 + o + length]
        return cols

    def _adjoint_block(self, layer, v, q0):
        """col2im of ``mats_t[layer] @ v`` (``v``: ``(c_out, L)``, unused columns zero) into ``accum[layer]``."""
        offsets, dst = self.offsets[layer], self.accum[layer]
        length = v.shape[1]
        z = self.cols[: self.mats_t[layer].shape[0] * length].reshape(-1, length)
        np.matmul(self.mats_t[layer], v, out=z)
        if _col2im_kernel is not None:
            _col2im_kernel(z, q0, offsets, dst)
        else:
            z = z.reshape(dst.shape[0], offsets.size, length)
            for t, o in enumerate(offsets.tolist()):
                view = dst[:, q0 + o : q0 + o + length]
                np.add(view, z[:, t], out=view)

    # -- layers -------------------------------------------------------------------------------
    def load(self, x):
        """Put the input image (``(H, W)`` or ``(c_0, H, W)``) in the first plane."""
        self.interior(self.inputs[0])[...] = x.reshape(self.channels[0], self.h, self.w)

    def forward_layer(self, layer):
        """``inputs[layer] -> inputs[layer + 1]`` (not the last layer)."""
        dst, start = self.inputs[layer + 1], self.pad * self.wp + self.pad
        for q0, _, length in self._blocks(layer):
            np.matmul(self.mats[layer], self._columns(layer, q0, length),
                      out=dst[:, start + q0 : start + q0 + length])
        self._zero_columns(dst)

    def last_blocks(self):
        """The last layer block by block: ``(r0, rows, block)`` with ``block`` ``(c_L, rows, W_p)``.

        The block is scratch, overwritten by the next one; columns ``W:`` are unused.
        """
        layer = len(self.mats) - 1
        for q0, n, length in self._blocks(layer):
            block = self.block[: self.channels[-1] * length].reshape(self.channels[-1], length)
            np.matmul(self.mats[layer], self._columns(layer, q0, length), out=block)
            yield q0 // self.wp, n, block.reshape(-1, n, self.wp)

    def adjoint_last(self, block, r0):
        """The last layer's adjoint of one block ``(c_L, rows, W_p)`` at row ``r0``; zeroes its unused columns."""
        block[:, :, self.w :] = 0
        self._adjoint_block(len(self.mats) - 1, block.reshape(block.shape[0], -1), r0 * self.wp)

    def adjoint_layer(self, layer):
        """``accum[layer + 1] -> accum[layer]`` (not the last layer)."""
        src, start = self.accum[layer + 1], self.pad * self.wp + self.pad
        self._zero_columns(src)
        self.accum[layer].fill(0)
        for q0, _, length in self._blocks(layer):
            self._adjoint_block(layer, src[:, start + q0 : start + q0 + length], q0)

    def result(self, channels_only):
        """The adjoint's output: a copy of the first accumulator's interior."""
        out = np.array(self.interior(self.accum[0]))
        return out.reshape(self.h, self.w) if channels_only else out


def forward(planes, x):
    """:math:`Wx` on the planes: ``(c_L, H, W)``."""
    planes.load(x)
    for layer in range(len(planes.mats) - 1):
        planes.forward_layer(layer)
    out = np.empty((planes.channels[-1], planes.h, planes.w), planes.dtype)
    for r0, n, block in planes.last_blocks():
        out[:, r0 : r0 + n] = block[:, :, : planes.w]
    return out


def _backward(planes, two_d):
    planes_count = len(planes.mats)
    for layer in range(planes_count - 2, -1, -1):
        planes.adjoint_layer(layer)
    return planes.result(two_d)


def adjoint(planes, y, two_d):
    r""":math:`W^\top y` for ``y`` ``(c_L, H, W)``; ``(H, W)`` out when ``two_d``."""
    last = len(planes.mats) - 1
    planes.accum[last].fill(0)
    rows = planes.rows[last]
    for r0 in range(0, planes.h, rows):
        n = min(rows, planes.h - r0)
        block = planes.block[: y.shape[0] * n * planes.wp].reshape(y.shape[0], n, planes.wp)
        block[:, :, : planes.w] = y[:, r0 : r0 + n]
        planes.adjoint_last(block, r0)
    return _backward(planes, two_d)


def sandwich(planes, x, fn, two_d):
    r""":math:`W^\top f(Wx)`, ``f`` applied in place to blocks ``(c_L, rows, W_p)`` of :math:`Wx`."""
    planes.load(x)
    for layer in range(len(planes.mats) - 1):
        planes.forward_layer(layer)
    planes.accum[-1].fill(0)
    for r0, _, block in planes.last_blocks():
        fn(block)
        planes.adjoint_last(block, r0)
    return _backward(planes, two_d)
