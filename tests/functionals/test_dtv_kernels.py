"""The compiled dTV inner iteration (numba) against the array-API path: same iterates, gaps and values to rounding."""
from contextlib import nullcontext

import numpy as np
import pytest

from recon._compiled import disabled
from recon.functionals import DirectionalTV, _dtv_numba

pytest.importorskip("numba")
if _dtv_numba.kernels() is None:  # RECON_NUMBA=0 (cheap: numba compiles at the first call)
    pytest.skip("compiled kernels disabled by RECON_NUMBA", allow_module_level=True)
RNG = np.random.default_rng(11)


def _problem(shape, dtype):
    r, c = np.mgrid[: shape[0], : shape[1]]
    v = (r > shape[0] / 2).astype(float) + 0.5 * (c > shape[1] / 3) + 0.05 * RNG.random(shape)
    x = 2.0 * (r > shape[0] / 2) + 0.3 * RNG.standard_normal(shape)
    return v, x.astype(dtype)


def _run(monkeypatch, compiled, v, x, constraint, iters, eta=0.05):
    """Three prox calls (cold, warm at another tau, warm at another x) with a fixed number of inner iterations."""
    with nullcontext() if compiled else disabled():
        F = DirectionalTV(v, eta=eta, constraint=constraint, inner_tol=1e-14, inner_iters=iters, check_every=3)
        out = []
        for xx, tau in ((x, 0.3), (x, 0.1), (x[::-1].copy(), 0.1)):
            u, F_info = F.prox_with_info(xx, tau)
            out.append((u, dict(F_info)))
        assert (F._state.kernels is not None) == compiled
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("constraint", [None, "nonnegative", "simplex"])
@pytest.mark.parametrize("shape", [(23, 17), (1, 9), (8, 1), (2, 2)])
def test_compiled_iterates_match_array_api_path(monkeypatch, dtype, constraint, shape):
    v, x = _problem(shape, dtype)
    if constraint == "simplex":
        x = (x / np.abs(x).sum()).astype(dtype)
    fast = _run(monkeypatch, True, v, x, constraint, 25)
    slow = _run(monkeypatch, False, v, x, constraint, 25)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for (uf, inf), (us, ins) in zip(fast, slow):
        assert uf.dtype == dtype and us.dtype == dtype
        scale = max(float(np.abs(us).max()), 1.0)
        assert np.abs(uf - us).max() <= rtol * scale * 10
        assert inf["iterations"] == ins["iterations"]
        assert inf["value"] == pytest.approx(ins["value"], rel=rtol * 10, abs=rtol)
        assert inf["gap"] == pytest.approx(ins["gap"], rel=1e-3 if dtype == np.float32 else 1e-7, abs=rtol * scale)
        if constraint:
            assert uf.min() >= 0
        if constraint == "simplex":
            assert float(uf.sum()) == pytest.approx(1.0, abs=1e-5 if dtype == np.float32 else 1e-12)


def test_compiled_prox_converges_to_the_same_certified_point(monkeypatch):
    """With a tolerance instead of an iteration count both paths certify a gap and agree within it."""
    v, x = _problem((40, 31), np.float64)
    res = {}
    for compiled in (True, False):
        with nullcontext() if compiled else disabled():
            F = DirectionalTV(v, eta=0.01, constraint="nonnegative", inner_tol=1e-8, inner_iters=100000)
            res[compiled] = F.prox_with_info(x, 0.2)
    (uf, inf), (us, ins) = res[True], res[False]
    assert inf["converged"] and ins["converged"]
    assert np.linalg.norm(uf - us) <= np.sqrt(2 * inf["gap"]) + np.sqrt(2 * ins["gap"])


def test_non_contiguous_input_and_other_shapes_fall_back_or_copy(monkeypatch):
    v, x = _problem((12, 10), np.float64)
    F = DirectionalTV(v, eta=0.05, inner_tol=1e-14, inner_iters=10)
    G = DirectionalTV(v, eta=0.05, inner_tol=1e-14, inner_iters=10)
    xt = np.asfortranarray(x)
    assert np.allclose(F.prox(xt, 0.2), G.prox(x, 0.2), rtol=0, atol=1e-14)
    # 1-D signals take the array-API path
    T = DirectionalTV(RNG.random(9), inner_iters=5)
    T.prox(RNG.random(9), 0.1)
    assert T._state.kernels is None


def test_disabled_by_environment(monkeypatch):
    """RECON_NUMBA=0 turns compiled kernels off (recon._compiled.compiled returns None)."""
    monkeypatch.setenv("RECON_NUMBA", "0")
    assert _dtv_numba.kernels() is None  # read at each call: no cache to reset
