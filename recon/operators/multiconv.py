r"""Multi-convolution: a chain of multi-channel 'same' convolutions with zero padding.

The filter bank of the learned ridge regularizers (CRR-NN, WCRR) is not one convolution but a
composition :math:`W = W_L \cdots W_2 W_1`, each layer mapping :math:`c_{l-1}` channels to
:math:`c_l` channels (e.g. 1 → 4 → 8 → 60 with 5×5 kernels):

.. math::
    (W_l u)_{o}[p] = \sum_{i=1}^{c_{l-1}} \sum_{a, b} k^{(l)}_{o, i, a, b}\,
                     u_i[p_1 + a - r_l,\; p_2 + b - r_l],
    \qquad r_l = (K_l - 1)/2,

with :math:`u_i` zero outside the image.  This is PyTorch's ``conv2d`` (a correlation, not a
flipped convolution) with ``padding=K//2``, the layer the authors of CRR-NN/WCRR use, and every
layer crops back to the image: the chain is therefore *not* one 13×13 convolution near the
border.  The adjoint runs the layers backwards, each one the exact transpose (a zero-padded
correlation transpose, i.e. ``conv_transpose2d``).

Each layer is computed as one matrix product: the :math:`c_{l-1} K_l^2` shifted copies of the
input (im2col) times the :math:`c_l \times c_{l-1} K_l^2` kernel matrix, in row blocks so the
shifted copies stay small.  NumPy arrays take :mod:`~recon.operators._multiconv_planes` (padded planes
in which every shift is a contiguous slice, products written in place, compiled im2col/col2im
when numba is installed, :meth:`MultiConvolution.sandwich` fused block by block, and the blocks
on as many threads as the BLAS is set to use, see :mod:`~recon.operators.block_threads`); any
other library takes the standard-only path here.
"""
from __future__ import annotations

from ..backend import array_namespace, check_finite, is_cupy, is_numpy
from ._multiconv_planes import Planes
from ._multiconv_planes import adjoint as planes_adjoint
from ._multiconv_planes import forward as planes_forward
from ._multiconv_planes import sandwich as planes_sandwich
from ._multiconv_planes import usable as planes_usable
from .base import LinearOperator

__all__ = ["MultiConvolution"]

# Row blocks are sized so one block of shifted copies holds about this many elements
# (4M float32 = 16 MB): large enough for an efficient matrix product, small enough for a GPU.
_BLOCK_ELEMENTS = 1 << 22


class MultiConvolution(LinearOperator):
    r"""Composition of multi-channel 'same' correlations with zero padding (exact adjoint).

    Parameters
    ----------
    kernels : sequence of arrays, shapes ``(c_l, c_{l-1}, K_l, K_l)``
        One 4-D kernel per layer, ``K_l`` odd, channel counts chaining
        (``kernels[l].shape[1] == kernels[l-1].shape[0]``).  Real and finite.  They fix the
        array library; inputs must come from the same one.  Used as given: constraints such as
        zero-mean first-layer kernels (CRR-NN/WCRR) are the caller's job.
    shape : tuple of int
        ``(H, W)``, the image size.

    Notes
    -----
    Input shape ``(H, W)`` when the first layer has one input channel, else ``(c_0, H, W)``;
    output shape ``(c_L, H, W)``.  Computations follow the input's dtype (kernels are cast
    once per dtype and cached), so float32 stays float32.

    References
    ----------
    Goujon, A., Neumayer, S., Bohra, P., Ducotterd, S., Unser, M. (2023). A neural-network-based
    convex regularizer for inverse problems. *IEEE Trans. Comput. Imaging* 9, 781-795.
    """

    def __init__(self, kernels, shape):
        kernels = list(kernels)
        if not kernels:
            raise ValueError("kernels must hold at least one 4-D kernel, got an empty sequence")
        xp = array_namespace(*kernels)
        for l, k in enumerate(kernels):
            if k.ndim != 4 or k.shape[2] != k.shape[3] or k.shape[2] % 2 != 1:
                raise ValueError(f"kernels[{l}] must have shape (c_out, c_in, K, K) with K odd, got {tuple(k.shape)}")
            if l and k.shape[1] != kernels[l - 1].shape[0]:
                raise ValueError(
                    f"kernels[{l}] takes {k.shape[1]} channels but kernels[{l - 1}] gives {kernels[l - 1].shape[0]}"
                )
            if not xp.isdtype(k.dtype, "real floating"):
                raise ValueError(f"kernels[{l}] must be real floating, got {k.dtype}")
            check_finite(k, f"kernels[{l}]")
        shape = tuple(int(n) for n in shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"shape must be (H, W) with positive sizes, got {shape}")
        c0 = kernels[0].shape[1]
        shape_in = shape if c0 == 1 else (c0, *shape)
        super().__init__(shape_in, (kernels[-1].shape[0], *shape), xp=xp)
        self.kernels = kernels
        self.channels = [c0] + [k.shape[0] for k in kernels]
        self._cache = {}
        self._planes = {}  # dtype -> idle _multiconv_planes.Planes (one per concurrent call)

    def _kernels_as(self, dtype):
        """Kernel matrices ``(c_l, c_{l-1} K_l^2)`` in ``dtype``, with their transposes."""
        if dtype not in self._cache:
            xp = self.xp
            mats = []
            for k in self.kernels:
                m = xp.reshape(xp.astype(k, dtype), (k.shape[0], k.shape[1] * k.shape[2] * k.shape[3]))
                mats.append((m, xp.asarray(m.T, copy=True)))
            self._cache[dtype] = mats
        return self._cache[dtype]

    def _rows_per_block(self, columns, width):
        return max(1, min(self.shape_out[1], _BLOCK_ELEMENTS // max(1, columns * width)))

    def _layer(self, u, mat, size):
        """One zero-padded 'same' correlation: ``u`` (c_in, H, W) -> (c_out, H, W)."""
        xp = array_namespace(u)
        c_in, h, w = u.shape
        r = size // 2
        padded = xp.zeros((c_in, h + 2 * r, w + 2 * r), dtype=u.dtype)
        padded[:, r : r + h, r : r + w] = u
        step = self._rows_per_block(c_in * size * size, w)
        blocks = []
        for r0 in range(0, h, step):
            n = min(step, h - r0)
            shifted = [padded[:, r0 + a : r0 + a + n, b : b + w] for a in range(size) for b in range(size)]
            cols = xp.reshape(xp.stack(shifted, axis=1), (c_in * size * size, n * w))
            blocks.append(xp.reshape(xp.matmul(mat, cols), (mat.shape[0], n, w)))
        return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=1)

    def _layer_adjoint(self, v, mat_t, size):
        """Transpose of :meth:`_layer`: ``v`` (c_out, H, W) -> (c_in, H, W)."""
        xp = array_namespace(v)
        c_out, h, w = v.shape
        c_in = mat_t.shape[0] // (size * size)
        r = size // 2
        out = xp.zeros((c_in, h + 2 * r, w + 2 * r), dtype=v.dtype)
        inplace = is_numpy(xp) or is_cupy(xp)
        step = self._rows_per_block(c_in * size * size, w)
        for r0 in range(0, h, step):
            n = min(step, h - r0)
            z = xp.matmul(mat_t, xp.reshape(v[:, r0 : r0 + n, :], (c_out, n * w)))
            z = xp.reshape(z, (c_in, size, size, n, w))
            for a in range(size):
                for b in range(size):
                    rows, cols = slice(r0 + a, r0 + a + n), slice(b, b + w)
                    if inplace:  # accumulate in the view: no temporary of the block
                        out[:, rows, cols] += z[:, a, b, :, :]
                    else:
                        out[:, rows, cols] = out[:, rows, cols] + z[:, a, b, :, :]
        return out[:, r : r + h, r : r + w]

    def _planes_call(self, fn, dtype, *args):
        """``fn(planes, *args)`` with a ``_multiconv_planes.Planes`` of ``dtype`` from the pool."""
        pool = self._planes.setdefault(dtype, [])
        try:
            planes = pool.pop()
        except IndexError:  # none idle: this is the first call, or another thread holds them
            planes = Planes(self.kernels, self.shape_out[1:], dtype)
        try:
            return fn(planes, *args)
        finally:
            pool.append(planes)

    def _forward(self, x):
        if planes_usable(x, self.kernels):
            return self._planes_call(planes_forward, x.dtype, x)
        xp = array_namespace(x, self.kernels[0])
        u = x if x.ndim == 3 else xp.reshape(x, (1, *x.shape))
        for k, (mat, _) in zip(self.kernels, self._kernels_as(x.dtype)):
            u = self._layer(u, mat, k.shape[2])
        return u

    def _adjoint(self, y):
        if planes_usable(y, self.kernels):
            return self._planes_call(planes_adjoint, y.dtype, y, len(self.shape_in) == 2)
        xp = array_namespace(y, self.kernels[0])
        v = y
        for k, (_, mat_t) in zip(reversed(self.kernels), reversed(self._kernels_as(y.dtype))):
            v = self._layer_adjoint(v, mat_t, k.shape[2])
        return v if len(self.shape_in) == 3 else xp.reshape(v, self.shape_in)

    def sandwich(self, x, fn):
        r""":math:`W^\top f(Wx)` for a channel-wise elementwise :math:`f`.

        Parameters
        ----------
        x : array, shape ``shape_in``
        fn : callable
            ``fn(z)`` for ``z`` of shape ``(c_L, ...)`` (channel first), returning :math:`f(z)`
            of the same shape and dtype; it may work in place and return ``z``.  It must act on
            each entry alone (its channel may matter, its position may not): on NumPy it sees
            blocks of rows, ``(c_L, rows, W + 2R)``, whose last ``2R`` columns are discarded,
            possibly from several threads at once (one block each).

        Returns
        -------
        array, shape ``shape_in``

        Notes
        -----
        On NumPy the last layer, :math:`f` and the last adjoint layer run block by block, so
        :math:`Wx` (``c_L`` channels) is never stored whole: the gradient of a ridge regularizer
        (:math:`\nabla R = W^\top\sigma(Wx)`) costs two matrix products a block and little else.
        """
        self._check(x, self.shape_in, "x")
        if planes_usable(x, self.kernels):
            def apply(block):
                out = fn(block)
                if out is not block:
                    block[...] = out
            return self._planes_call(planes_sandwich, x.dtype, x, apply, len(self.shape_in) == 2)
        return self._adjoint(fn(self._forward(x)))

    def _norm_dtype(self, xp):
        return self.kernels[0].dtype
