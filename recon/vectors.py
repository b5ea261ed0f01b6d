r"""Arithmetic on vectors that are arrays or tuples of arrays (block vectors).

A stacked operator (``stack([A, B])``) returns a tuple of arrays, one per block; solvers treat
such a tuple as one vector.  Every function here accepts an array or a tuple of arrays (blocks
may be tuples again) and works on any array-API library.

Inner products are real: :math:`\langle a, b\rangle = \operatorname{Re}\sum \bar a\, b`, so the
adjoint of a complex-linear map is its conjugate transpose.

Functions
---------
``vdot(a, b) -> float``, ``norm(a) -> float``
    Real inner product and Euclidean norm.
``lincomb(alpha, x, beta, y)``
    ``alpha * x + beta * y`` (new arrays).
``scale(x, c)``, ``add(a, b)``, ``subtract(a, b)``
    ``c * x``, ``a + b``, ``a - b`` (new arrays).
``add_into(v, w)``, ``scale_into(v, c)``, ``assign(out, value)``
    ``v += w``, ``v *= c``, ``out[...] = value`` in place (the first argument owned by the caller);
    each returns the first argument.
``copy(x)``
    An independent copy.
``zeros_like(x)``, ``zeros(shape, like)``
    Zeros shaped like ``x``; zeros of ``shape`` (a tuple of shapes for a block vector) in the
    library, dtype and device of the array ``like``.
``random_like(shape, *, xp=None, dtype=None, seed=None)``
    Standard normal array (tuple for a tuple of shapes) in namespace ``xp``.
``shape_of(x)``
    ``x.shape``, or the tuple of the blocks' shapes.
``relative_change(new, old) -> float``
    :math:`\|x_{new} - x_{old}\| / \|x_{new}\|` (the absolute change where :math:`x_{new} = 0`).
"""
from __future__ import annotations

import math

import numpy as np

from .backend import array_namespace, asarray, namespace

__all__ = ["vdot", "norm", "lincomb", "scale", "add", "subtract", "add_into", "scale_into", "assign", "copy",
           "zeros_like", "zeros", "random_like", "shape_of", "relative_change"]


def vdot(a, b) -> float:
    """Real inner product :math:`\\operatorname{Re}\\langle a, b\\rangle`; tuples are summed blockwise."""
    if isinstance(a, tuple):
        return sum(vdot(ai, bi) for ai, bi in zip(a, b))
    xp = array_namespace(a, b)
    if xp.isdtype(a.dtype, "complex floating") or xp.isdtype(b.dtype, "complex floating"):
        return float(xp.sum(xp.real(xp.conj(a) * b)))
    return float(xp.sum(a * b))


def norm(a) -> float:
    """Euclidean norm of an array or a tuple of arrays."""
    if isinstance(a, tuple):
        return float(math.sqrt(sum(norm(ai) ** 2 for ai in a)))
    xp = array_namespace(a)
    if xp.isdtype(a.dtype, "complex floating"):
        return float(xp.sqrt(xp.sum(xp.real(a) ** 2 + xp.imag(a) ** 2)))
    return float(xp.sqrt(xp.sum(a * a)))


def lincomb(alpha, x, beta, y):
    """``alpha * x + beta * y`` for arrays or tuples of arrays (new arrays)."""
    if isinstance(x, tuple):
        return tuple(lincomb(alpha, xi, beta, yi) for xi, yi in zip(x, y))
    return alpha * x + beta * y


def scale(x, c):
    """``c * x`` (new arrays)."""
    if isinstance(x, tuple):
        return tuple(scale(xi, c) for xi in x)
    return c * x


def add(a, b):
    """``a + b`` (new arrays)."""
    if isinstance(a, tuple):
        return tuple(add(ai, bi) for ai, bi in zip(a, b))
    return a + b


def subtract(a, b):
    """``a - b`` (new arrays)."""
    if isinstance(a, tuple):
        return tuple(subtract(ai, bi) for ai, bi in zip(a, b))
    return a - b


def add_into(v, w):
    """``v += w`` in place (``v`` must be owned by the caller); returns ``v``."""
    if isinstance(v, tuple):
        for vi, wi in zip(v, w):
            add_into(vi, wi)
    else:
        v += w
    return v


def scale_into(v, c):
    """``v *= c`` in place; returns ``v``."""
    if isinstance(v, tuple):
        for vi in v:
            scale_into(vi, c)
    else:
        v *= c
    return v


def assign(out, value):
    """``out[...] = value`` in place (nothing to do when ``value`` is ``out``); returns ``out``."""
    if value is out:
        return out
    if isinstance(out, tuple):
        for oi, vi in zip(out, value):
            assign(oi, vi)
    else:
        out[...] = value
    return out


def copy(x):
    """An independent copy of an array or a tuple of arrays."""
    if isinstance(x, tuple):
        return tuple(copy(xi) for xi in x)
    return array_namespace(x).asarray(x, copy=True)


def zeros_like(x):
    """Zeros shaped like an array or a tuple of arrays."""
    if isinstance(x, tuple):
        return tuple(zeros_like(xi) for xi in x)
    xp = array_namespace(x)
    return xp.zeros_like(x)


def zeros(shape, like):
    """Zeros of ``shape`` (a tuple of shapes gives a tuple of arrays) in the library, dtype, device of ``like``."""
    if shape and isinstance(shape[0], tuple):
        return tuple(zeros(s, like) for s in shape)
    xp = array_namespace(like)
    return xp.zeros(shape, dtype=like.dtype, device=like.device)


def _random(shape, xp, dtype, rng):
    if shape and isinstance(shape[0], tuple):
        return tuple(_random(s, xp, dtype, rng) for s in shape)
    if xp.isdtype(dtype, "complex floating"):
        real = xp.float32 if dtype == xp.complex64 else xp.float64
        re = asarray(rng.standard_normal(shape), xp=xp, dtype=real)
        im = asarray(rng.standard_normal(shape), xp=xp, dtype=real)
        return xp.astype(re, dtype) + 1j * xp.astype(im, dtype)
    return asarray(rng.standard_normal(shape), xp=xp, dtype=dtype)


def random_like(shape, *, xp=None, dtype=None, seed=None):
    """Standard normal array (tuple of arrays for a tuple of shapes) in ``xp`` (default backend), float64 by default."""
    xp = namespace() if xp is None else xp
    dtype = xp.float64 if dtype is None else dtype
    return _random(tuple(shape), xp, dtype, np.random.default_rng(seed))


def shape_of(x):
    """``tuple(x.shape)``, or the tuple of the blocks' shapes for a tuple of arrays."""
    if isinstance(x, tuple):
        return tuple(shape_of(xi) for xi in x)
    return tuple(x.shape)


def relative_change(new, old) -> float:
    """:math:`\\|x_{new} - x_{old}\\| / \\|x_{new}\\|` (the absolute change where :math:`x_{new} = 0`)."""
    change = norm(subtract(new, old))
    den = norm(new)
    return change / den if den > 0 else change
