"""Argument validation with named errors: one home for "must be a finite number > 0".

Public functions check a user's argument at the boundary and raise an error that names the
argument and the value received; internals trust their inputs.  Every check returns the
normalised value, so a call reads ``tol = finite(tol, "tol", ge=0)``.

Scalars
    ``finite(value, name, *, gt=None, ge=None, le=None, lt=None) -> float``
        A real number, finite, within the given bounds:
        ``ValueError("weight must be a finite number >= 0, got -0.1")``.
    ``finite_or_none(value, name, **bounds) -> float | None``
        The same, ``None`` passing through (optional step sizes).
    ``tolerance(value, name="tol") -> float``
        ``finite(value, name, ge=0)``: a stopping tolerance (``0`` switches the test off).
    ``positive_int(value, name) -> int``
        An ``int`` (not ``bool``) ``>= 1``: ``ValueError("iters must be a positive int, got 0")``.
    ``one_of(value, name, options)``
        ``value in options``: ``ValueError("restart must be one of ('adaptive', None), got 'x'")``.
    ``callable_or_none(value, name)``
        ``TypeError("callback must be callable or None, got int")``.

Arrays
    ``finite_array(x, name)``
        Raise ``ValueError`` naming ``name`` if ``x`` holds NaN or infinity (any array-API array;
        tuples of arrays are checked block by block).  Returns ``x``.
    ``array(x, name)``
        ``TypeError`` unless ``x`` (or every block of a tuple) has a ``shape``.  Returns ``x``.
    ``shape(x, expected, name, where=None)``
        ``ValueError("y has shape (3,), expected K.shape_out = (4,)")`` unless the shape (a tuple
        of shapes for a tuple of arrays) equals ``expected``.  Returns ``x``.
"""
from __future__ import annotations

import math
import numbers

from .backend import check_finite

__all__ = ["finite", "finite_or_none", "tolerance", "positive_int", "one_of", "callable_or_none",
           "finite_array", "array", "shape"]

_BOUNDS = (("gt", ">", lambda v, b: v > b), ("ge", ">=", lambda v, b: v >= b),
           ("lt", "<", lambda v, b: v < b), ("le", "<=", lambda v, b: v <= b))


def finite(value, name: str, *, gt=None, ge=None, le=None, lt=None) -> float:
    """``float(value)`` if it is a finite real number within the bounds, else ``ValueError`` naming ``name``."""
    bounds = {"gt": gt, "ge": ge, "lt": lt, "le": le}
    wanted = " and ".join(f"{op} {bounds[key]:g}" for key, op, _ in _BOUNDS if bounds[key] is not None)
    what = f"{name} must be a finite number" + (f" {wanted}" if wanted else "")
    if isinstance(value, bool):
        raise ValueError(f"{what}, got {value!r}")
    if not isinstance(value, numbers.Real):
        try:
            value = float(value)  # 0-d arrays, numpy scalars
        except (TypeError, ValueError):
            raise ValueError(f"{what}, got {value!r}") from None
    value = float(value)
    if not math.isfinite(value) or not all(test(value, bounds[key]) for key, _, test in _BOUNDS
                                           if bounds[key] is not None):
        raise ValueError(f"{what}, got {value}")
    return value


def finite_or_none(value, name: str, **bounds):
    """:func:`finite`, with ``None`` passed through."""
    return None if value is None else finite(value, name, **bounds)


def tolerance(value, name: str = "tol") -> float:
    """A stopping tolerance: ``finite(value, name, ge=0)``."""
    return finite(value, name, ge=0)


def positive_int(value, name: str) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) ``>= 1``, else ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def one_of(value, name: str, options):
    """``value`` if it is one of ``options``, else ``ValueError`` listing them."""
    if value not in tuple(options):
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def callable_or_none(value, name: str):
    """``value`` if it is callable or ``None``, else ``TypeError`` naming ``name``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")
    return value


def _blocks(x):
    return x if isinstance(x, tuple) else (x,)


def array(x, name: str):
    """``x`` if it (or every block of a tuple) is an array (has a ``shape``), else ``TypeError``."""
    for block in _blocks(x):
        if not hasattr(block, "shape"):
            raise TypeError(f"{name} must be an array, got {type(block).__name__}")
    return x


def finite_array(x, name: str):
    """``x`` if it holds no NaN or infinity (blockwise for tuples), else ``ValueError`` naming ``name``."""
    for block in _blocks(x):
        check_finite(block, name)
    return x


def shape(x, expected, name: str, where: str | None = None):
    """``x`` if its shape (a tuple of shapes for a tuple of arrays) is ``expected``, else ``ValueError``."""
    got = tuple(tuple(b.shape) for b in x) if isinstance(x, tuple) else tuple(x.shape)
    if got != tuple(expected):
        target = f"{where} = {tuple(expected)}" if where else f"{tuple(expected)}"
        raise ValueError(f"{name} has shape {got}, expected {target}")
    return x
