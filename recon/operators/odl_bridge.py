r"""Bridge to ODL (Adler, Kohr, Öktem 2017): an ``odl.Operator`` as a recon operator, and back.

ODL's spaces carry inner products :math:`\langle x, y\rangle_X = w_X \sum_i x_i y_i` with a constant
weight :math:`w_X` (the cell volume of ``odl.uniform_discr`` spaces, 1 for ``odl.tensor_space``;
ODL 1.0's ray transform gives its range the weight 1), and ``op.adjoint`` is the adjoint for those.
recon's adjoints are for the plain sum :math:`\sum_i x_i y_i`, so the bridges rescale:

.. math::
    A^{\mathsf T} = \frac{w_X}{w_Y}\,A^*_{\mathrm{ODL}}, \qquad A^*_{\mathrm{ODL}} = \frac{w_Y}{w_X}\,A^{\mathsf T}.

Arrays cross the bridge unchanged, in ODL's layout (axis 0 of a 2-D ``uniform_discr`` is
:math:`x`, increasing; recon's images put :math:`y` on axis 0, decreasing).  A ``ProductSpace`` of
equal spaces (e.g. the range of ``odl.Gradient``) is an array with a leading axis of its length.
ODL runs on NumPy here: NumPy and other host arrays are accepted (results come back in the input's
library and dtype), device arrays are refused rather than copied.

Needs the ``odl`` extra (``pip install 'recon[odl]'``; tested with ODL 1.0).

References
----------
Adler, J., Kohr, H., Öktem, O. (2017). Operator Discretization Library (ODL). Zenodo.
"""
from __future__ import annotations

import functools

import numpy as np

from ..backend import array_namespace, asarray, is_cupy, to_numpy
from .base import LinearOperator

__all__ = ["from_odl", "to_odl"]


def _odl():
    try:
        import odl
    except ImportError as err:
        raise ImportError("the ODL bridge needs ODL: pip install 'recon[odl]'") from err
    return odl


def _shape(space, name):
    """Array shape of an ODL space: its ``shape`` (tensor spaces, powers of one space)."""
    shape = getattr(space, "shape", None)
    odl = _odl()
    if isinstance(space, odl.ProductSpace) and not space.is_power_space:
        raise ValueError(f"{name} must be a tensor space or a power of one, got {space!r}")
    if shape is None:
        raise ValueError(f"{name} must be an ODL tensor space (with a shape), got {space!r}")
    return tuple(int(n) for n in shape)


def _weight(space, name) -> float:
    r"""The constant :math:`w` with :math:`\langle x, y\rangle = w\sum_i x_i y_i` on ``space``."""
    one = space.one()
    w = float(space.inner(one, one)) / float(np.prod(_shape(space, name)))
    probe = space.element(np.random.default_rng(0).standard_normal(_shape(space, name)))
    plain = float(np.sum(np.asarray(probe.asarray(), dtype=np.float64) ** 2))
    if not np.isclose(float(space.inner(probe, probe)), w * plain, rtol=1e-5):
        raise NotImplementedError(f"{name} has a non-constant weighting; only constant weights are supported")
    return w


class ODLOperator(LinearOperator):
    """A linear ``odl.Operator`` as a recon :class:`LinearOperator` (see :func:`from_odl`)."""

    def __init__(self, odl_op):
        odl = _odl()
        if not isinstance(odl_op, odl.Operator):
            raise TypeError(f"odl_op must be an odl.Operator, got {type(odl_op).__name__}")
        if not odl_op.is_linear:
            raise ValueError(f"odl_op must be linear, got the nonlinear {odl_op!r}")
        super().__init__(_shape(odl_op.domain, "odl_op.domain"), _shape(odl_op.range, "odl_op.range"))
        self.odl_op = odl_op
        # Euclidean adjoint = (w_X / w_Y) x ODL's adjoint (module docstring)
        self._adjoint_scale = _weight(odl_op.domain, "odl_op.domain") / _weight(odl_op.range, "odl_op.range")

    @staticmethod
    def _through(fn, space, x, scale=1.0):
        xp = array_namespace(x)
        if is_cupy(xp):
            raise TypeError("the ODL bridge runs on NumPy; move device arrays with recon.backend.to_numpy")
        out = np.asarray(fn(space.element(to_numpy(x))).asarray())
        if scale != 1.0:
            out = out * scale
        return asarray(out, xp=xp, dtype=x.dtype)

    def _forward(self, x):
        return self._through(self.odl_op, self.odl_op.domain, x)

    def _adjoint(self, y):
        return self._through(self.odl_op.adjoint, self.odl_op.range, y, self._adjoint_scale)

    def __repr__(self):
        return f"from_odl({self.odl_op!r})"


def from_odl(odl_op) -> LinearOperator:
    r"""Wrap a linear ``odl.Operator`` as a recon :class:`~recon.operators.LinearOperator`.

    ``shape_in``/``shape_out`` are the shapes of ``odl_op.domain``/``odl_op.range``; the adjoint is
    ``odl_op.adjoint`` rescaled to the Euclidean inner product,
    :math:`A^{\mathsf T} = (w_X / w_Y)\,A^*_{\mathrm{ODL}}` (module docstring), so
    :func:`~recon.operators.dottest` and recon's solvers see the exact adjoint whenever ODL's is.

    Examples
    --------
    >>> import odl                                              # doctest: +SKIP
    >>> space = odl.uniform_discr([-1, -1], [1, 1], (32, 32))   # doctest: +SKIP
    >>> G = from_odl(odl.Gradient(space))                       # doctest: +SKIP
    >>> G.shape_in, G.shape_out                                 # doctest: +SKIP
    ((32, 32), (2, 32, 32))
    """
    return ODLOperator(odl_op)


def to_odl(op: LinearOperator, domain=None, range=None):
    r"""Wrap a recon :class:`~recon.operators.LinearOperator` as a linear ``odl.Operator``.

    Parameters
    ----------
    op : LinearOperator
        Arrays in, arrays out (single arrays, not tuples).
    domain, range : ODL spaces, optional
        Tensor spaces (``odl.tensor_space``, ``odl.uniform_discr``, ...) of shapes ``op.shape_in``
        and ``op.shape_out``; default ``odl.tensor_space(shape)`` (float64, weight 1).

    Returns
    -------
    odl.Operator
        Linear, with ``adjoint`` :math:`A^*_{\mathrm{ODL}} = (w_Y / w_X)\,A^{\mathsf T}` for the
        spaces' weights, so ``odl_op.adjoint`` is the adjoint in ODL's inner products.
    """
    odl = _odl()
    if not isinstance(op, LinearOperator):
        raise TypeError(f"op must be a recon LinearOperator, got {type(op).__name__}")
    if isinstance(op.shape_in[0] if op.shape_in else None, tuple) or \
            isinstance(op.shape_out[0] if op.shape_out else None, tuple):
        raise ValueError("op must map arrays to arrays (stacked operators with tuple shapes are not bridged)")
    domain = odl.tensor_space(op.shape_in) if domain is None else domain
    range = odl.tensor_space(op.shape_out) if range is None else range
    for space, shape, name in ((domain, op.shape_in, "domain"), (range, op.shape_out, "range")):
        if not isinstance(space, odl.LinearSpace) or _shape(space, name) != shape:
            raise ValueError(f"{name} must be an ODL space of shape {shape}, got {space!r}")
    return _odl_class()(op, domain, range, _weight(range, "range") / _weight(domain, "domain"))


@functools.cache
def _odl_class():
    """The :func:`to_odl` wrapper class; it derives from ``odl.Operator``, so it is made on first use
    (importing recon needs no ODL)."""
    odl = _odl()

    class ReconOperator(odl.Operator):
        """A recon operator seen from ODL (:func:`to_odl`); ``transpose`` applies ``factor`` times its adjoint."""

        def __init__(self, op, domain, range, factor, transpose=False):
            super().__init__(domain, range, linear=True)
            self.op, self.factor, self.transpose = op, factor, transpose

        def _call(self, x):
            arr = np.asarray(x.asarray())
            return self.range.element(self.op.adjoint(arr) * self.factor if self.transpose else self.op(arr))

        @property
        def adjoint(self):
            return ReconOperator(self.op, self.range, self.domain, self.factor, not self.transpose)

        def __repr__(self):
            return f"to_odl({self.op!r}){'.adjoint' if self.transpose else ''}"

    return ReconOperator
