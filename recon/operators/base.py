"""Linear operators: a forward map, its exact adjoint, and an algebra that reads like mathematics.

A :class:`LinearOperator` maps arrays of shape ``shape_in`` to arrays of shape ``shape_out``
(never flattened).  Subclasses implement ``_forward`` and ``_adjoint``; everything else
(shape checks, ``.T``, ``A @ B``, ``A + B``, ``c * A``, :func:`stack`, ``norm()``) comes from here.

A stacked operator (block column, ``stack([A, B])``) returns a *tuple* of arrays, one per
block; :mod:`recon.vectors` (:func:`vdot`, :func:`lincomb`, ...) treats such tuples as one vector, so solvers
can work with several terms at once (e.g. a data term and a TV term in PDHG).

Inner products are real: :math:`\\langle a, b\\rangle = \\operatorname{Re}\\sum \\bar a\\, b`,
so the adjoint of a complex-linear map is its conjugate transpose.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..backend import array_namespace, namespace
from ..vectors import add, add_into, assign, norm, random_like, scale, scale_into, shape_of, vdot

__all__ = [
    "LinearOperator",
    "Identity",
    "Diagonal",
    "MatrixOperator",
    "stack",
    "dottest",
]


def _normalise_shape(shape):
    if shape and isinstance(shape[0], (tuple, list)):
        return tuple(tuple(int(n) for n in s) for s in shape)
    return tuple(int(n) for n in shape)


# ---------------------------------------------------------------------------------------------
# the protocol
# ---------------------------------------------------------------------------------------------
class LinearOperator:
    """A linear map between arrays, with its exact adjoint.

    Parameters
    ----------
    shape_in, shape_out : tuple of int
        Shapes of the input and output arrays.  A tuple of shapes means a tuple of arrays
        (block vectors, see :func:`stack`).
    xp : namespace, optional
        Array namespace of arrays the operator stores (kernels, matrices); ``None`` if it
        stores none.  Used for start vectors of :meth:`norm`.

    Notes
    -----
    Subclasses implement ``_forward(x)`` and ``_adjoint(y)``; the public ``__call__`` and
    ``adjoint`` check shapes first, so bad input fails with a message naming the operator.

    Hot loops (pdhg) call :meth:`forward_into` / :meth:`adjoint_into`, which write into a
    preallocated output and skip the shape checks.  The defaults compute ``_forward`` /
    ``_adjoint`` and copy; operators that can do better (:class:`~recon.operators.Gradient`)
    override them, and the algebra (``c * A``, ``A + B``, ``A @ B``, ``A.T``, :func:`stack`)
    forwards them, so ``1.0 * Gradient(...)`` keeps the fast path.
    """

    def __init__(self, shape_in, shape_out, *, xp=None):
        self.shape_in = _normalise_shape(shape_in)
        self.shape_out = _normalise_shape(shape_out)
        self.xp = xp
        self._norm = None

    # -- to implement -------------------------------------------------------------------------
    def _forward(self, x):
        raise NotImplementedError

    def _adjoint(self, y):
        raise NotImplementedError

    # -- public -------------------------------------------------------------------------------
    def __call__(self, x):
        self._check(x, self.shape_in, "x")
        return self._forward(x)

    def adjoint(self, y):
        """Apply the adjoint :math:`A^*` to ``y`` (shape ``shape_out``)."""
        self._check(y, self.shape_out, "y")
        return self._adjoint(y)

    def forward_into(self, x, out, *, accumulate: bool = False):
        """Write :math:`Ax` into ``out`` (add it when ``accumulate``); returns ``out``.

        No shape checks (the caller owns ``out`` and knows the shapes); ``out`` must not share
        memory with ``x``.  Default: ``_forward`` and a copy (or an in-place add).
        """
        value = self._forward(x)
        return add_into(out, value) if accumulate else assign(out, value)

    def adjoint_into(self, y, out):
        """Write :math:`A^*y` into ``out``; returns ``out``.  No shape checks; default ``_adjoint`` and a copy."""
        return assign(out, self._adjoint(y))

    @property
    def T(self) -> LinearOperator:
        """The adjoint operator :math:`A^*`, itself a :class:`LinearOperator`."""
        return _Adjoint(self)

    def _check(self, x, shape, name):
        if isinstance(shape[0] if shape else None, tuple):
            if not isinstance(x, tuple) or len(x) != len(shape):
                raise ValueError(f"{type(self).__name__}: {name} must be a tuple of {len(shape)} arrays")
        elif not hasattr(x, "shape"):
            raise TypeError(f"{type(self).__name__}: {name} must be an array, got {type(x).__name__}")
        if shape_of(x) != shape:
            raise ValueError(f"{type(self).__name__}: {name} has shape {shape_of(x)}, expected {shape}")

    def norm(self, *, iters: int = 500, rtol: float = 1e-7, seed: int = 0, recompute: bool = False) -> float:
        """Operator norm :math:`\\|A\\| = \\sqrt{\\lambda_{\\max}(A^*A)}` by power iteration, cached.

        The iteration stops when the estimate changes by less than ``rtol`` (relative) or after
        ``iters`` steps.  Power iteration approaches :math:`\\|A\\|` from below; solvers that
        need an upper bound for their step sizes apply their own safety margin.
        Operators that know their norm in closed form override :meth:`_exact_norm`.
        """
        if self._norm is not None and not recompute:
            return self._norm
        exact = self._exact_norm()
        if exact is not None:
            self._norm = float(exact)
            return self._norm
        xp = self.xp if self.xp is not None else namespace()
        x = random_like(self.shape_in, xp=xp, dtype=self._norm_dtype(xp), seed=seed)
        x = scale(x, 1.0 / norm(x))
        estimate = 0.0
        for _ in range(iters):
            z = self._adjoint(self._forward(x))
            nz = norm(z)
            if nz == 0.0:
                estimate = 0.0
                break
            new = float(np.sqrt(nz))
            x = scale(z, 1.0 / nz)
            if abs(new - estimate) <= rtol * new:
                estimate = new
                break
            estimate = new
        self._norm = estimate
        return estimate

    def _exact_norm(self):
        return None

    def _norm_dtype(self, xp):
        return xp.float64

    # -- algebra -------------------------------------------------------------------------------
    def __matmul__(self, other):
        if isinstance(other, LinearOperator):
            return _Composition(self, other)
        return NotImplemented

    def __add__(self, other):
        if isinstance(other, LinearOperator):
            return _Sum(self, other)
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, LinearOperator):
            return _Sum(self, _Scaled(-1.0, other))
        return NotImplemented

    def __mul__(self, c):
        if isinstance(c, numbers.Number):
            return _Scaled(c, self)
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self):
        return _Scaled(-1.0, self)

    def __repr__(self):
        return f"{type(self).__name__}({self.shape_in} -> {self.shape_out})"


class _Adjoint(LinearOperator):
    def __init__(self, op):
        super().__init__(op.shape_out, op.shape_in, xp=op.xp)
        self.op = op
        self._norm = op._norm

    def _forward(self, x):
        return self.op._adjoint(x)

    def _adjoint(self, y):
        return self.op._forward(y)

    def forward_into(self, x, out, *, accumulate=False):
        if accumulate:
            return add_into(out, self.op._adjoint(x))
        return self.op.adjoint_into(x, out)

    def adjoint_into(self, y, out):
        return self.op.forward_into(y, out)

    @property
    def T(self):
        return self.op

    def norm(self, **kwargs):
        return self.op.norm(**kwargs)


class _Composition(LinearOperator):
    def __init__(self, a, b):
        if a.shape_in != b.shape_out:
            raise ValueError(f"cannot compose {a!r} @ {b!r}: {a.shape_in} != {b.shape_out}")
        super().__init__(b.shape_in, a.shape_out, xp=a.xp or b.xp)
        self.a, self.b = a, b

    def _forward(self, x):
        return self.a._forward(self.b._forward(x))

    def _adjoint(self, y):
        return self.b._adjoint(self.a._adjoint(y))

    def forward_into(self, x, out, *, accumulate=False):
        return self.a.forward_into(self.b._forward(x), out, accumulate=accumulate)

    def adjoint_into(self, y, out):
        return self.b.adjoint_into(self.a._adjoint(y), out)


class _Sum(LinearOperator):
    def __init__(self, a, b):
        if a.shape_in != b.shape_in or a.shape_out != b.shape_out:
            raise ValueError(f"cannot add {a!r} + {b!r}: shapes differ")
        super().__init__(a.shape_in, a.shape_out, xp=a.xp or b.xp)
        self.a, self.b = a, b

    def _forward(self, x):
        return add(self.a._forward(x), self.b._forward(x))

    def _adjoint(self, y):
        return add(self.a._adjoint(y), self.b._adjoint(y))

    def forward_into(self, x, out, *, accumulate=False):
        self.a.forward_into(x, out, accumulate=accumulate)
        return self.b.forward_into(x, out, accumulate=True)

    def adjoint_into(self, y, out):
        return add_into(self.a.adjoint_into(y, out), self.b._adjoint(y))


class _Scaled(LinearOperator):
    def __init__(self, c, op):
        super().__init__(op.shape_in, op.shape_out, xp=op.xp)
        self.c, self.op = c, op
        if op._norm is not None:
            self._norm = abs(c) * op._norm

    def _forward(self, x):
        return scale(self.op._forward(x), self.c)

    def _adjoint(self, y):
        return scale(self.op._adjoint(y), self.c.conjugate() if isinstance(self.c, complex) else self.c)

    def forward_into(self, x, out, *, accumulate=False):
        # c * v rounds like v *= c, and 1.0 * v is v: the wrapped operator's fast path is kept
        if isinstance(self.c, complex) or (accumulate and self.c != 1):
            return super().forward_into(x, out, accumulate=accumulate)
        self.op.forward_into(x, out, accumulate=accumulate)
        return out if self.c == 1 else scale_into(out, self.c)

    def adjoint_into(self, y, out):
        if isinstance(self.c, complex):
            return super().adjoint_into(y, out)
        self.op.adjoint_into(y, out)
        return out if self.c == 1 else scale_into(out, self.c)

    def _exact_norm(self):
        inner = self.op._exact_norm()
        return None if inner is None else abs(self.c) * inner


class _Stack(LinearOperator):
    """Block column ``[A_1; A_2; ...]``: ``x ↦ (A_1 x, A_2 x, ...)``; adjoint ``Σ A_i^* y_i``."""

    def __init__(self, ops):
        ops = list(ops)
        if not ops:
            raise ValueError("stack needs at least one operator")
        shape_in = ops[0].shape_in
        for op in ops[1:]:
            if op.shape_in != shape_in:
                raise ValueError(f"stack: input shapes differ ({shape_in} vs {op.shape_in})")
        super().__init__(shape_in, tuple(op.shape_out for op in ops), xp=next((o.xp for o in ops if o.xp), None))
        self.ops = ops

    def _forward(self, x):
        return tuple(op._forward(x) for op in self.ops)

    def _adjoint(self, y):
        out = self.ops[0]._adjoint(y[0])
        for op, yi in zip(self.ops[1:], y[1:]):
            out = out + op._adjoint(yi)
        return out

    def forward_into(self, x, out, *, accumulate=False):
        for op, block in zip(self.ops, out):
            op.forward_into(x, block, accumulate=accumulate)
        return out

    def adjoint_into(self, y, out):
        self.ops[0].adjoint_into(y[0], out)
        for op, yi in zip(self.ops[1:], y[1:]):
            add_into(out, op._adjoint(yi))
        return out


def stack(ops) -> LinearOperator:
    """Block-column operator :math:`K = [A_1; \\dots; A_n]` returning a tuple ``(A_1 x, ..., A_n x)``.

    Its adjoint is :math:`K^*(y_1,\\dots,y_n) = \\sum_i A_i^* y_i`.  Used to hand several
    terms to a primal-dual solver at once.
    """
    return _Stack(ops)


# ---------------------------------------------------------------------------------------------
# elementary operators
# ---------------------------------------------------------------------------------------------
class Identity(LinearOperator):
    """The identity on arrays of ``shape``."""

    def __init__(self, shape):
        super().__init__(shape, shape)

    def _forward(self, x):
        return x

    def _adjoint(self, y):
        return y

    def _exact_norm(self):
        return 1.0


class Diagonal(LinearOperator):
    """Pointwise multiplication :math:`x \\mapsto d \\odot x`; adjoint multiplies by :math:`\\bar d`.

    ``d`` fixes the shape (and the namespace/device) of the operator.  A boolean ``d`` is a
    mask (inpainting, missing pixels) and is stored as 0/1 of the input's dtype at call time.
    """

    def __init__(self, d):
        xp = array_namespace(d)
        if xp.isdtype(d.dtype, "bool"):
            d = xp.astype(d, xp.float64)
        super().__init__(tuple(d.shape), tuple(d.shape), xp=xp)
        self.d = d
        self._conj = xp.conj(d) if xp.isdtype(d.dtype, "complex floating") else d

    def _cast(self, d, x):
        xp = array_namespace(x, d)
        if d.dtype != x.dtype and not xp.isdtype(d.dtype, "complex floating"):
            return xp.astype(d, x.dtype)
        return d

    def _forward(self, x):
        return self._cast(self.d, x) * x

    def _adjoint(self, y):
        return self._cast(self._conj, y) * y

    def _exact_norm(self):
        return float(self.xp.max(self.xp.abs(self.d)))


class MatrixOperator(LinearOperator):
    """A dense matrix ``M`` (m×n) as an operator from 1-D arrays of length n to length m."""

    def __init__(self, M):
        xp = array_namespace(M)
        if M.ndim != 2:
            raise ValueError(f"M must be a 2-D matrix, got shape {tuple(M.shape)}")
        super().__init__((M.shape[1],), (M.shape[0],), xp=xp)
        self.M = M
        self._MH = xp.conj(M).T if xp.isdtype(M.dtype, "complex floating") else M.T

    def _forward(self, x):
        xp = array_namespace(x, self.M)
        return xp.matmul(self.M if self.M.dtype == x.dtype else xp.astype(self.M, x.dtype), x)

    def _adjoint(self, y):
        xp = array_namespace(y, self.M)
        return xp.matmul(self._MH if self._MH.dtype == y.dtype else xp.astype(self._MH, y.dtype), y)

    def _norm_dtype(self, xp):
        return self.M.dtype


def dottest(op: LinearOperator, *, xp=None, dtype=None, seed: int = 0) -> float:
    """Relative adjoint mismatch :math:`|\\langle Ax, y\\rangle - \\langle x, A^*y\\rangle| / (\\|x\\|\\|y\\|\\|A\\|)`.

    ``x`` and ``y`` are standard normal in namespace ``xp`` (default: the operator's or the
    default backend) with ``dtype`` (default float64).  For an exact adjoint the result is at
    rounding level: ~1e-16 in float64, ~1e-7 in float32.
    """
    xp = xp if xp is not None else (op.xp if op.xp is not None else namespace())
    dtype = xp.float64 if dtype is None else dtype
    x = random_like(op.shape_in, xp=xp, dtype=dtype, seed=seed)
    y = random_like(op.shape_out, xp=xp, dtype=dtype, seed=seed + 1)
    lhs = vdot(op(x), y)
    rhs = vdot(x, op.adjoint(y))
    size = norm(x) * norm(y) * max(op.norm(), np.finfo(float).tiny)
    return abs(lhs - rhs) / size
