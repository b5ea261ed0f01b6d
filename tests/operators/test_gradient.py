"""Gradient: the NumPy fast path (flat last-axis differences) equals the generic array-API path."""
import numpy as np
import pytest

from recon.operators import Divergence, Gradient, dottest

xs = pytest.importorskip("array_api_strict")


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 5), (1, 6), (6, 1), (2, 2), (9,), (1, 1), (2, 3, 1)])
def test_fast_path_matches_generic(shape):
    rng = np.random.default_rng(0)
    G = Gradient(shape)
    u = rng.standard_normal(shape)
    p = rng.standard_normal((len(shape),) + shape)
    assert np.allclose(G(u), np.asarray(G(xs.asarray(u))), rtol=0, atol=1e-15)
    assert np.allclose(G.adjoint(p), np.asarray(G.adjoint(xs.asarray(p))), rtol=0, atol=1e-14)
    # a non-contiguous input takes the generic path and must agree too
    pt = np.ascontiguousarray(np.swapaxes(p, -1, -2)).swapaxes(-1, -2)
    assert not pt.flags.c_contiguous or len(shape) < 2 or min(shape[-2:]) == 1
    assert np.allclose(G.adjoint(pt), G.adjoint(p), atol=1e-14)


def test_adjoint_ignores_last_samples_and_divergence_sign():
    G = Gradient((4, 5))
    p = np.zeros((2, 4, 5))
    p[1, :, -1] = 1.0  # entries where the forward map is identically zero
    p[0, -1, :] = 1.0
    assert np.all(G.adjoint(p) == 0)
    q = np.random.default_rng(1).standard_normal((2, 4, 5))
    assert np.allclose(Divergence((4, 5))(q), -G.adjoint(q))
    assert dottest(Divergence((4, 5))) < 1e-12
