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

Each layer is a list of independent block tasks (:func:`~recon.operators.block_threads.run_steps`):
with as many threads as the BLAS is set to use (and threadpoolctl installed), whole blocks go to
whichever thread is free, each with a single-threaded BLAS, and the threads meet between layers.
Blocks write disjoint rows of the next plane; the col2im of neighbouring blocks overlap by
:math:`2R` rows, so those additions take a lock.
"""
from __future__ import annotations

import threading

import numpy as np

from .._compiled import enabled, lazy
from . import block_threads

__all__ = ["Planes", "usable", "forward", "adjoint", "sandwich"]

# Row blocks hold about this many elements of shifted copies (512k: 2 MB in float32), so a block's
# copies, product and col2im stay in a core's L2/L3 (measured best at 4-8 rows of 512 for 8 -> 60).
_BLOCK_ELEMENTS = 1 << 19
# Images smaller than this many pixels run on the calling thread (starting threads costs ~0.1 ms).
_PARALLEL_PIXELS = 1 << 14


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


_im2col_kernel = lazy(_im2col)
_col2im_kernel = lazy(_col2im)


def usable(x, kernels) -> bool:
    """Whether this path applies: NumPy arrays (image and kernels) of float32 or float64."""
    return type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and all(
        type(k) is np.ndarray for k in kernels)


class _Scratch:
    """One thread's buffers: the shifted copies (or transposed products) and a last-layer block."""

    def __init__(self, planes):
        self.cols = np.empty(max(m.shape[1] * r for m, r in zip(planes.mats, planes.rows)) * planes.wp, planes.dtype)
        self.block = np.empty(planes.channels[-1] * planes.rows[-1] * planes.wp, planes.dtype)


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
        self.layers = len(kernels)
        # inputs[l]: the input of layer l; accum[l]: the adjoint of layer l accumulates here
        self.inputs = [np.zeros((c, size), self.dtype) for c in self.channels[:-1]]
        self.accum = [np.zeros((c, size), self.dtype) for c in self.channels[:-1]]
        self.scratch = [_Scratch(self)]
        self.col2im_lock = threading.Lock()

    # -- planes -------------------------------------------------------------------------------
    def _grid(self, plane):
        """``plane`` as ``(c, H + 2R, W_p)`` (a view)."""
        return plane[:, : (self.h + 2 * self.pad) * self.wp].reshape(plane.shape[0], -1, self.wp)

    def interior(self, plane):
        R = self.pad
        return self._grid(plane)[:, R : R + self.h, R : R + self.w]

    def zero_columns(self, plane):
        """Zero the padding columns, where a layer's unused grid columns land.

        The rows above and below are never written in an input plane, and never read from an
        accumulator (a layer reads its source at offsets ``R W_p + R + q``, ``q < H W_p``).
        """
        g = self._grid(plane)
        g[:, :, : self.pad] = 0
        g[:, :, self.pad + self.w :] = 0

    def blocks(self, layer):
        """``(q0, rows, L)`` of each row block of ``layer``: grid start, row count, grid length."""
        step = self.rows[layer]
        return [(r0 * self.wp, min(step, self.h - r0), min(step, self.h - r0) * self.wp)
                for r0 in range(0, self.h, step)]

    def threads(self):
        """Threads for one call: the BLAS's setting, at most one a last-layer block, 1 for small images."""
        if self.h * self.w < _PARALLEL_PIXELS:
            return 1
        threads = min(block_threads.blas_threads(), len(self.blocks(self.layers - 1)))
        while len(self.scratch) < threads:
            self.scratch.append(_Scratch(self))
        return threads

    # -- one block ----------------------------------------------------------------------------
    def columns(self, s, layer, q0, length):
        """The shifted copies of the block at ``q0`` in scratch ``s``: ``(c_in K^2, length)``."""
        src, offsets = self.inputs[layer], self.offsets[layer]
        cols = s.cols[: offsets.size * src.shape[0] * length].reshape(-1, length)
        if _im2col_kernel is not None and enabled():
            _im2col_kernel(src, q0, offsets, cols)
        else:
            cols3 = cols.reshape(src.shape[0], offsets.size, length)
            for t, o in enumerate(offsets.tolist()):
                cols3[:, t] = src[:, q0 + o : q0 + o + length]
        return cols

    def adjoint_block(self, s, layer, v, q0):
        """col2im of ``mats_t[layer] @ v`` (``v``: ``(c_out, L)``, unused columns zero) into ``accum[layer]``."""
        offsets, dst = self.offsets[layer], self.accum[layer]
        length = v.shape[1]
        z = s.cols[: self.mats_t[layer].shape[0] * length].reshape(-1, length)
        np.matmul(self.mats_t[layer], v, out=z)
        with self.col2im_lock:  # neighbouring blocks add into 2R common rows
            if _col2im_kernel is not None and enabled():
                _col2im_kernel(z, q0, offsets, dst)
            else:
                z = z.reshape(dst.shape[0], offsets.size, length)
                for t, o in enumerate(offsets.tolist()):
                    view = dst[:, q0 + o : q0 + o + length]
                    np.add(view, z[:, t], out=view)

    def last_block(self, s, q0, n, length):
        """The last layer's output on one block, in scratch: ``(c_L, rows, W_p)``, columns ``W:`` unused."""
        block = s.block[: self.channels[-1] * length].reshape(self.channels[-1], length)
        np.matmul(self.mats[-1], self.columns(s, self.layers - 1, q0, length), out=block)
        return block.reshape(-1, n, self.wp)

    def adjoint_last(self, s, block, q0):
        """The last layer's adjoint of one block ``(c_L, rows, W_p)`` at grid ``q0``; zeroes its unused columns."""
        block[:, :, self.w :] = 0
        self.adjoint_block(s, self.layers - 1, block.reshape(block.shape[0], -1), q0)

    # -- steps (lists of block tasks, see block_threads.run_steps) ----------------------------
    def forward_steps(self):
        """Layers ``0 .. L-2``: ``inputs[l] -> inputs[l + 1]``."""
        start = self.pad * self.wp + self.pad
        steps = []
        for layer in range(self.layers - 1):
            dst = self.inputs[layer + 1]
            tasks = [lambda s, layer=layer, dst=dst, q0=q0, length=length:
                     np.matmul(self.mats[layer], self.columns(s, layer, q0, length),
                               out=dst[:, start + q0 : start + q0 + length])
                     for q0, _, length in self.blocks(layer)]
            steps.append((tasks, lambda dst=dst: self.zero_columns(dst)))
        return steps

    def last_step(self, block_fn):
        """The last layer: ``block_fn(s, q0, n, length)`` a block; then the last accumulator's columns are zeroed."""
        tasks = [lambda s, b=b: block_fn(s, *b) for b in self.blocks(self.layers - 1)]
        then = (lambda: self.zero_columns(self.accum[-1])) if self.layers > 1 else None
        return [(tasks, then)]

    def adjoint_steps(self):
        """Layers ``L-2 .. 0``: ``accum[l + 1] -> accum[l]``."""
        start = self.pad * self.wp + self.pad
        steps = []
        for layer in range(self.layers - 2, -1, -1):
            src = self.accum[layer + 1]
            tasks = [lambda s, layer=layer, src=src, q0=q0, length=length:
                     self.adjoint_block(s, layer, src[:, start + q0 : start + q0 + length], q0)
                     for q0, _, length in self.blocks(layer)]
            then = (lambda dst=self.accum[layer]: self.zero_columns(dst)) if layer else None
            steps.append((tasks, then))
        return steps

    def run(self, steps):
        threads = self.threads()
        if threads == 1:
            block_threads.run_steps(steps, self.scratch[:1])
            return
        with block_threads.single_threaded_blas() as single:
            # a multithreaded BLAS called from several threads at once queues them: run alone then
            block_threads.run_steps(steps, self.scratch[:threads] if single else self.scratch[:1])

    # -- ends ---------------------------------------------------------------------------------
    def load(self, x):
        """Put the input image (``(H, W)`` or ``(c_0, H, W)``) in the first plane."""
        self.interior(self.inputs[0])[...] = x.reshape(self.channels[0], self.h, self.w)

    def clear_accumulators(self):
        for plane in self.accum:
            plane.fill(0)

    def result(self, two_d):
        """The adjoint's output: a copy of the first accumulator's interior, ``(H, W)`` when ``two_d``."""
        out = np.array(self.interior(self.accum[0]))
        return out.reshape(self.h, self.w) if two_d else out


def forward(planes, x):
    """:math:`Wx` on the planes: ``(c_L, H, W)``."""
    planes.load(x)
    out = np.empty((planes.channels[-1], planes.h, planes.w), planes.dtype)

    def block(s, q0, n, length):
        r0 = q0 // planes.wp
        out[:, r0 : r0 + n] = planes.last_block(s, q0, n, length)[:, :, : planes.w]

    planes.run(planes.forward_steps() + planes.last_step(block))
    return out


def adjoint(planes, y, two_d):
    r""":math:`W^\top y` for ``y`` ``(c_L, H, W)``; ``(H, W)`` out when ``two_d``."""
    planes.clear_accumulators()

    def block(s, q0, n, length):
        r0 = q0 // planes.wp
        b = s.block[: y.shape[0] * length].reshape(y.shape[0], n, planes.wp)
        b[:, :, : planes.w] = y[:, r0 : r0 + n]
        planes.adjoint_last(s, b, q0)

    planes.run(planes.last_step(block) + planes.adjoint_steps())
    return planes.result(two_d)


def sandwich(planes, x, fn, two_d):
    r""":math:`W^\top f(Wx)`, ``f`` applied in place to blocks ``(c_L, rows, W_p)`` of :math:`Wx`."""
    planes.load(x)
    planes.clear_accumulators()

    def block(s, q0, n, length):
        b = planes.last_block(s, q0, n, length)
        fn(b)
        planes.adjoint_last(s, b, q0)

    planes.run(planes.forward_steps() + planes.last_step(block) + planes.adjoint_steps())
    return planes.result(two_d)
