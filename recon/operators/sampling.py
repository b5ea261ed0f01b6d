r"""Sampling operators: masks, subsampling, block-mean downsampling, padding and cropping.

All are written against the array API (boolean indexing, slicing, ``xp.where``), so they run
on NumPy, CuPy and any standard-conforming library, and preserve the input's dtype.

References
----------
Bertero, M., Boccacci, P. (1998). *Introduction to Inverse Problems in Imaging*. IOP Publishing.
Elad, M., Feuer, A. (1997). Restoration of a single superresolution image from several blurred,
noisy, and undersampled measured images. *IEEE Trans. Image Process.* 6(12), 1646-1658
(the blur-then-decimate observation model that :class:`Downsample` @ :class:`Convolution` builds).
"""
from __future__ import annotations

import math

import array_api_compat

from ..backend import array_namespace, pad_edge
from .base import LinearOperator

__all__ = ["Mask", "Subsample", "Downsample", "Pad", "Crop"]


def _as_bool_mask(mask):
    """``mask`` as a boolean array; numeric masks must hold only 0 and 1."""
    xp = array_namespace(mask)
    if xp.isdtype(mask.dtype, "bool"):
        return xp, mask
    if xp.isdtype(mask.dtype, "complex floating") or not bool(xp.all((mask == 0) | (mask == 1))):
        raise ValueError(f"mask must be boolean or hold only 0 and 1, got dtype {mask.dtype} with other values")
    return xp, mask != 0


def _per_axis(value, ndim, name):
    """An int or a sequence of ints as a tuple of ``ndim`` ints."""
    if isinstance(value, int):
        return (value,) * ndim
    value = tuple(value)
    if len(value) != ndim or any(int(v) != v for v in value):
        raise ValueError(f"{name} must be an int or {ndim} ints, got {value}")
    return tuple(int(v) for v in value)


def _check_shape(shape):
    shape = tuple(int(n) for n in shape)
    if not shape or any(n < 1 for n in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape}")
    return shape


class Mask(LinearOperator):
    r"""Keep the pixels where ``mask`` is True, zero the others: :math:`x \mapsto m \odot x`.

    Self-adjoint, an orthogonal projection; :math:`\|M\| = 1` unless the mask is empty.

    Parameters
    ----------
    mask : array of bool (or of 0/1)
        Fixes the shape and the array library of the operator.
    """

    def __init__(self, mask):
        xp, mask = _as_bool_mask(mask)
        super().__init__(tuple(mask.shape), tuple(mask.shape), xp=xp)
        self.mask = mask

    def _forward(self, x):
        xp = array_namespace(x, self.mask)
        return xp.where(self.mask, x, xp.zeros_like(x))

    _adjoint = _forward

    def _exact_norm(self):
        return 1.0 if bool(self.xp.any(self.mask)) else 0.0


class Subsample(LinearOperator):
    r"""The vector of kept pixels, :math:`x \mapsto (x_i)_{i : m_i}`, in C (row-major) order.

    Maps an array of ``mask.shape`` to a 1-D array of length ``count = sum(mask)``; the
    adjoint scatters a vector back into an image with zeros elsewhere.
    :math:`S S^* = I`, so :math:`\|S\| = 1`.

    Parameters
    ----------
    mask : array of bool (or of 0/1)
        Which pixels are observed; at least one must be True.
    """

    def __init__(self, mask):
        xp, mask = _as_bool_mask(mask)
        count = int(xp.sum(xp.astype(mask, xp.int64)))
        if count == 0:
            raise ValueError("mask must keep at least one pixel, got an all-False mask")
        super().__init__(tuple(mask.shape), (count,), xp=xp)
        self.mask = mask
        self.count = count

    def _forward(self, x):
        array_namespace(x, self.mask)  # same library and device, or a clear error
        return x[self.mask]

    def _adjoint(self, y):
        xp = array_namespace(y, self.mask)
        out = xp.zeros(self.shape_in, dtype=y.dtype, device=array_api_compat.device(y))
        out[self.mask] = y
        return out

    def _exact_norm(self):
        return 1.0


class Downsample(LinearOperator):
    r"""Mean over non-overlapping blocks (an integrating sensor).

    .. math::
        (D x)_i = \frac{1}{|B|} \sum_{j \in B} x_{f \odot i + j}, \qquad
        B = \{0..f_1-1\} \times \dots \times \{0..f_d-1\},

    from ``shape`` to ``shape // factor``.  The adjoint replicates each value over its block
    and divides by :math:`|B| = \prod_a f_a`; :math:`D D^* = I / |B|`, so
    :math:`\|D\| = |B|^{-1/2}`.

    Parameters
    ----------
    shape : tuple of int
        Input shape, divisible by ``factor`` along every axis.
    factor : int or tuple of int
        Block size, one for all axes or one per axis (>= 1).
    """

    def __init__(self, shape, factor):
        shape = _check_shape(shape)
        factor = _per_axis(factor, len(shape), "factor")
        if any(f < 1 for f in factor):
            raise ValueError(f"factor must be >= 1, got {factor}")
        if any(n % f for n, f in zip(shape, factor)):
            raise ValueError(f"shape {shape} is not divisible by factor {factor}; crop or pad first")
        super().__init__(shape, tuple(n // f for n, f in zip(shape, factor)))
        self.factor = factor
        # interleaved (n_1/f_1, f_1, n_2/f_2, f_2, ...): the block axes are the odd ones
        self._blocked = tuple(v for m, f in zip(self.shape_out, factor) for v in (m, f))
        self._block_axes = tuple(range(1, 2 * len(shape), 2))

    def _forward(self, x):
        xp = array_namespace(x)
        return xp.mean(xp.reshape(x, self._blocked), axis=self._block_axes)

    def _adjoint(self, y):
        xp = array_namespace(y)
        singleton = tuple(v for m in self.shape_out for v in (m, 1))
        expanded = xp.reshape(y * (1.0 / math.prod(self.factor)), singleton)
        return xp.reshape(xp.broadcast_to(expanded, self._blocked), self.shape_in)

    def _exact_norm(self):
        return 1.0 / math.sqrt(math.prod(self.factor))


def _widths(widths, ndim):
    """numpy.pad-style widths (int, (before, after), or one pair per axis) as ``ndim`` pairs."""
    if isinstance(widths, int):
        pairs = ((widths, widths),) * ndim
    else:
        widths = tuple(widths)
        if len(widths) == 2 and all(isinstance(w, int) for w in widths):
            pairs = (widths,) * ndim
        else:
            pairs = tuple(tuple(w) for w in widths)
    if len(pairs) != ndim or any(len(p) != 2 or any(int(w) != w or w < 0 for w in p) for p in pairs):
        raise ValueError(f"widths must be ints >= 0: one int, one (before, after) pair or {ndim} pairs, got {widths}")
    return tuple((int(a), int(b)) for a, b in pairs)


def _along(axis, start, stop, ndim):
    """Index selecting ``start:stop`` along ``axis`` and everything along the other axes."""
    return tuple(slice(start, stop) if a == axis else slice(None) for a in range(ndim))


class Pad(LinearOperator):
    r"""Pad an array of ``shape`` by ``widths`` (``(before, after)`` per axis).

    * ``mode="zero"``: zeros outside; the adjoint is the crop (:class:`Crop`), :math:`P^*P = I`.
    * ``mode="symmetric"``: mirror including the edge sample (``numpy.pad(..., "symmetric")``);
      the adjoint folds the padded margins back onto the samples they copy.  Widths may not
      exceed the axis length.

    Parameters
    ----------
    shape : tuple of int
        Input shape; the output has ``shape[a] + before[a] + after[a]`` along axis ``a``.
    widths : int, (int, int) or sequence of (int, int)
        As in ``numpy.pad``.
    mode : {"zero", "symmetric"}
    """

    def __init__(self, shape, widths, mode: str = "zero"):
        shape = _check_shape(shape)
        widths = _widths(widths, len(shape))
        if mode not in ("zero", "symmetric"):
            raise ValueError(f"mode must be 'zero' or 'symmetric', got {mode!r}")
        if mode == "symmetric" and any(max(w) > n for w, n in zip(widths, shape)):
            raise ValueError(f"symmetric widths {widths} exceed the axis lengths {shape}")
        super().__init__(shape, tuple(n + a + b for n, (a, b) in zip(shape, widths)))
        self.widths = widths
        self.mode = mode

    def _forward(self, x):
        return pad_edge(x, self.widths, mode=self.mode)

    def _adjoint(self, y):
        if self.mode == "zero":
            return y[tuple(slice(a, a + n) for (a, _), n in zip(self.widths, self.shape_in))]
        xp = array_namespace(y)
        # pad_edge pads axis 0 first, so its transpose folds the last axis first
        for axis in reversed(range(len(self.shape_in))):
            (before, after), n = self.widths[axis], self.shape_in[axis]
            core = xp.asarray(y[_along(axis, before, before + n, y.ndim)], copy=True)
            if before:  # padded sample before-1-m copies sample m
                core[_along(axis, 0, before, y.ndim)] += xp.flip(y[_along(axis, 0, before, y.ndim)], axis=axis)
            if after:  # padded sample before+n+m copies sample n-1-m
                tail = y[_along(axis, before + n, before + n + after, y.ndim)]
                core[_along(axis, n - after, n, y.ndim)] += xp.flip(tail, axis=axis)
            y = core
        return y

    def _exact_norm(self):
        return 1.0 if self.mode == "zero" else None


class Crop(LinearOperator):
    r"""Remove ``widths`` (``(before, after)`` per axis) from an array of ``shape``.

    The adjoint of zero :class:`Pad`: ``Crop(shape, w)`` equals ``Pad(cropped, w).T``, and
    its adjoint pads with zeros.  :math:`C C^* = I`, :math:`\|C\| = 1`.
    """

    def __init__(self, shape, widths):
        shape = _check_shape(shape)
        widths = _widths(widths, len(shape))
        inner = tuple(n - a - b for n, (a, b) in zip(shape, widths))
        if any(m < 1 for m in inner):
            raise ValueError(f"widths {widths} leave nothing of shape {shape}")
        super().__init__(shape, inner)
        self.widths = widths

    def _forward(self, x):
        return x[tuple(slice(a, a + m) for (a, _), m in zip(self.widths, self.shape_out))]

    def _adjoint(self, y):
        return pad_edge(y, self.widths, mode="zero")

    def _exact_norm(self):
        return 1.0
