"""Operator algebra: adjoints of every composite, norms, shape errors."""
import numpy as np
import pytest

from recon.backend import to_numpy
from recon.operators import Diagonal, Gradient, Identity, MatrixOperator, dottest, stack
from tests.helpers import tolerance

SHAPES = [(5, 7), (6, 3), (4, 5, 3), (9,)]


@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_adjoint(shape, xp, dtype):
    G = Gradient(shape, spacing=0.7)
    assert dottest(G, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("shape", SHAPES)
def test_composites_adjoint(shape, xp, dtype, make):
    rng = np.random.default_rng(1)
    G = Gradient(shape)
    D = Diagonal(make(rng.standard_normal(shape)))
    ops = [G.T, G @ D, 2.5 * G, G.T @ G + Identity(shape), G.T @ G - 3.0 * D, -G, stack([G, D, Identity(shape)])]
    for op in ops:
        assert dottest(op, xp=xp, dtype=dtype) <= tolerance(dtype, xp), op
    assert dottest(stack([G, D]).T, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


def test_matrix_operator_adjoint_and_norm(xp, dtype, make):
    rng = np.random.default_rng(2)
    M = rng.standard_normal((7, 4))
    A = MatrixOperator(make(M))
    assert dottest(A, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    assert A.norm() == pytest.approx(np.linalg.norm(M, 2), rel=1e-5)


def test_complex_matrix_adjoint():
    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 6)) + 1j * rng.standard_normal((5, 6))
    assert dottest(MatrixOperator(M), dtype=np.complex128) <= 1e-12


def test_gradient_values_and_norm_bound():
    u = np.arange(12.0).reshape(3, 4) ** 2
    g = Gradient(u.shape)(u)
    assert np.allclose(g[0, :-1], np.diff(u, axis=0)) and np.all(g[0, -1] == 0)
    assert np.allclose(g[1, :, :-1], np.diff(u, axis=1)) and np.all(g[1, :, -1] == 0)
    G = Gradient((40, 50))
    power = Gradient((40, 50)).T @ Gradient((40, 50))
    est = np.sqrt(power.norm())
    assert est <= G.norm() <= 1.01 * est  # closed-form bound is an upper bound and tight


def test_diagonal_preserves_dtype(xp, dtype, make):
    D = Diagonal(make(np.full((3, 4), 2.0), xp.float64))
    x = make(np.ones((3, 4)))
    assert D(x).dtype == dtype
    assert np.allclose(to_numpy(D(x)), 2.0)


def test_shape_errors_name_the_argument():
    G = Gradient((4, 5))
    with pytest.raises(ValueError, match=r"x has shape \(5, 4\)"):
        G(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="y has shape"):
        G.adjoint(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="cannot compose"):
        Gradient((3, 3)) @ Gradient((4, 4))
    with pytest.raises(ValueError, match="shape must be"):
        Gradient((0, 3))


def test_mixed_libraries_is_a_clear_error():
    xs = pytest.importorskip("array_api_strict")
    from recon.backend import array_namespace

    with pytest.raises(TypeError, match="different libraries"):
        array_namespace(np.ones(2), xs.ones(2))


def test_into_methods_are_forwarded_by_the_algebra(monkeypatch):
    """``c * G``, ``G.T.T``, sums, compositions and stacks write into ``out`` like their ``__call__``; the
    wrapped operator's own ``forward_into`` is reached (``1.0 * Gradient`` keeps the fast path)."""
    from recon.operators import Gradient, Identity, stack

    G = Gradient((6, 5))
    calls = []
    original = Gradient.forward_into

    def spy(self, u, out, *, accumulate=False):
        calls.append(accumulate)
        return original(self, u, out, accumulate=accumulate)

    monkeypatch.setattr(Gradient, "forward_into", spy)
    rng = np.random.default_rng(0)
    x, p = rng.standard_normal((6, 5)), rng.standard_normal((2, 6, 5))
    (1.0 * G).forward_into(x, np.empty((2, 6, 5)), accumulate=True)
    assert calls[0] is True  # 1.0 * G went straight to Gradient.forward_into, accumulating there
    for op in (1.0 * G, 2.5 * G, G.T.T, G + G, G @ Identity((6, 5)), G - 0.5 * G):
        out = np.empty((2, 6, 5))
        assert op.forward_into(x, out) is out
        np.testing.assert_allclose(out, op(x), rtol=1e-15, atol=1e-15)
        acc = p.copy()
        op.forward_into(x, acc, accumulate=True)
        np.testing.assert_allclose(acc, p + op(x), rtol=1e-14, atol=1e-14)
        back = np.empty((6, 5))
        assert op.adjoint_into(p, back) is back
        np.testing.assert_allclose(back, op.adjoint(p), rtol=1e-14, atol=1e-14)
    K = stack([G, Identity((6, 5))])
    out = (np.empty((2, 6, 5)), np.empty((6, 5)))
    K.forward_into(x, out)
    np.testing.assert_array_equal(out[1], x)
    back = np.empty((6, 5))
    np.testing.assert_allclose(K.T.forward_into((p, x), back), K.adjoint((p, x)), rtol=1e-14)
