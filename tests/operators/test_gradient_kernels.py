"""Compiled 2-D Gradient kernels against the array-API path; pdhg's in-place fast path against its plain one."""
import numpy as np
import pytest

from recon._compiled import disabled, enabled
from recon.backend import combine_into
from recon.functionals import L21, L2DataFidelity
from recon.operators import Gradient, _gradient_numba
from recon.operators.base import dottest
from recon.solvers import pdhg

needs_numba = pytest.mark.skipif(not enabled(), reason="numba not installed or RECON_NUMBA=0")


@needs_numba
@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (5, 1), (2, 2), (9, 14)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_equal_array_api_path(monkeypatch, shape, dtype):
    rng = np.random.default_rng(0)
    G = Gradient(shape)
    u = rng.standard_normal(shape).astype(dtype)
    p = rng.standard_normal((2,) + shape).astype(dtype)
    assert _gradient_numba.usable(G, u, p)
    fwd, adj = G.forward_into(u, np.empty_like(p)), G.adjoint_into(p, np.empty_like(u))
    acc = G.forward_into(u, p.copy(), accumulate=True)
    with disabled():
        assert not _gradient_numba.usable(G, u, p)
        fwd0, adj0 = G.forward_into(u, np.empty_like(p)), G.adjoint_into(p, np.empty_like(u))
        acc0 = G.forward_into(u, p.copy(), accumulate=True)
    tol = 1e-6 if dtype == np.float32 else 1e-15
    for a, b in ((fwd, fwd0), (adj, adj0), (acc, acc0)):
        assert a.dtype == dtype
        assert np.max(np.abs(a - b)) <= tol
    assert np.max(np.abs(acc0 - (p + fwd0))) <= tol


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_dot_test(dtype):
    G = Gradient((13, 8))
    assert _gradient_numba.usable(G, np.zeros((13, 8), dtype), np.zeros((2, 13, 8), dtype))
    assert dottest(G, dtype=dtype) <= (1e-10 if dtype == np.float64 else 1e-4)


def test_non_contiguous_and_spacing_use_the_array_api_path():
    G = Gradient((6, 5), spacing=(1.0, 2.0))
    u = np.random.default_rng(1).standard_normal((6, 5))
    assert not _gradient_numba.usable(G, u, np.empty((2, 6, 5)))
    g = G.forward_into(u, np.empty((2, 6, 5)))
    assert np.allclose(g[1, :, :-1], np.diff(u, axis=1) / 2.0)
    view = np.random.default_rng(2).standard_normal((6, 10))[:, ::2]
    assert not _gradient_numba.usable(Gradient((6, 5)), view, np.empty((2, 6, 5)))
    acc = Gradient((6, 5)).forward_into(view, np.ones((2, 6, 5)), accumulate=True)
    assert np.allclose(acc[0, :-1], 1.0 + np.diff(view, axis=0)) and np.allclose(acc[0, -1], 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_combine_into(dtype):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((4, 7)).astype(dtype), rng.standard_normal((4, 7)).astype(dtype)
    expected = 0.5 * x.astype(float) - 2.0 * y
    tol = 1e-6 if dtype == np.float32 else 1e-15
    for out in (np.empty_like(x), x.copy(), y.copy()):
        if out.flags.owndata and np.array_equal(out, x):
            out = combine_into(out, 0.5, out, -2.0, y)
        elif np.array_equal(out, y):
            out = combine_into(out, 0.5, x, -2.0, out)
        else:
            out = combine_into(out, 0.5, x, -2.0, y)
        assert out.dtype == dtype and np.max(np.abs(out - expected)) <= tol
    strided = combine_into(np.empty((4, 7), dtype), 1.0, x[:, ::-1], 1.0, y)
    assert np.max(np.abs(strided - (x[:, ::-1] + y))) <= tol


def test_l2_prox_into_equals_prox():
    rng = np.random.default_rng(4)
    y = rng.standard_normal((5, 6))
    x = rng.standard_normal((5, 6)).astype(np.float32)
    F = L2DataFidelity(y)
    out = F.prox_into(x, 0.3, np.empty_like(x))
    assert out.dtype == np.float32
    assert np.max(np.abs(out - F.prox(x, 0.3))) <= 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pdhg_fast_path_equals_plain_path(dtype):
    # without a callback pdhg rotates buffers and accumulates K xbar into y; with one it does neither
    b = np.random.default_rng(5).standard_normal((20, 17)).astype(dtype)
    args = (0.3 * L21(), L2DataFidelity(b), Gradient(b.shape), b)
    fast = pdhg(*args, iters=60, tol=0.0, record_every=7)
    plain = pdhg(*args, iters=60, tol=0.0, record_every=7, callback=lambda k, x: False)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    assert fast.x.dtype == dtype
    assert np.max(np.abs(fast.x - plain.x)) <= tol
    assert np.allclose(fast.history["objective"], plain.history["objective"],
                       rtol=1e-5 if dtype == np.float32 else 1e-12)
