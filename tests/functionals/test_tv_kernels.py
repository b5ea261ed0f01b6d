"""The compiled TV kernels (recon/functionals/_tv_numba.py) against the array-API path they replace."""
import subprocess
import sys

import numpy as np
import pytest

from recon._compiled import disabled, enabled
from recon.functionals import L21, TV, _tv_numba

pytestmark = pytest.mark.skipif(not enabled(), reason="numba not installed or RECON_NUMBA=0")

SHAPES = [(1, 2), (1, 7), (6, 1), (2, 3), (17, 12), (33, 40)]


def _prox_pair(monkeypatch, f, w, **options):
    fused = TV(**options)
    u_fused, fused_info = fused.prox_with_info(f, w)
    with disabled():
        plain = TV(**options)
        u_plain, plain_info = plain.prox_with_info(f, w)
    return (u_fused, fused_info), (u_plain, plain_info)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("isotropic", [True, False])
def test_same_iterates_as_array_api_path_float64(monkeypatch, shape, isotropic):
    f = np.random.default_rng(sum(shape)).standard_normal(shape)
    (a, info_a), (b, info_b) = _prox_pair(monkeypatch, f, 0.3, isotropic=isotropic, inner_iters=37,
                                          inner_tol=1e-30, check_every=7)
    assert info_a["iterations"] == info_b["iterations"] == 37
    assert np.max(np.abs(a - b)) <= 1e-12 * max(1.0, np.max(np.abs(f)))
    assert info_a["gap"] == pytest.approx(info_b["gap"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("isotropic", [True, False])
def test_same_iterates_float32_and_dtype_kept(monkeypatch, isotropic):
    f = np.random.default_rng(1).standard_normal((31, 26)).astype(np.float32)
    (a, _), (b, _) = _prox_pair(monkeypatch, f, 0.2, isotropic=isotropic, inner_iters=50, inner_tol=1e-30)
    assert a.dtype == np.float32
    assert np.max(np.abs(a - b)) <= 1e-5


def test_warm_start_and_convergence_agree(monkeypatch):
    rng = np.random.default_rng(2)
    f = rng.standard_normal((40, 30))
    fused, plain = TV(inner_tol=1e-6), TV(inner_tol=1e-6)
    with disabled():
        plain_out = [plain.prox_with_info(f + 0.01 * k, 0.5) for k in range(3)]
    fused_out = [fused.prox_with_info(f + 0.01 * k, 0.5) for k in range(3)]
    assert fused_out[-1][1]["iterations"] == plain_out[-1][1]["iterations"]
    for (a, _), (b, _) in zip(fused_out, plain_out):
        assert np.max(np.abs(a - b)) <= 1e-10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_pixel_prox_is_identity(dtype):
    f = np.full((1, 1), 0.3, dtype)
    tv = TV()
    u, tv_info = tv.prox_with_info(f, 2.0)
    assert u.dtype == dtype and u[0, 0] == f[0, 0] and u is not f
    assert tv_info["converged"]


def test_non_contiguous_input_is_handled():
    base = np.random.default_rng(3).standard_normal((30, 50))
    view = base[:, ::2]  # not C-contiguous
    assert not view.flags.c_contiguous
    u = TV(inner_tol=1e-8).prox(view, 0.2)
    v = TV(inner_tol=1e-8).prox(np.ascontiguousarray(view), 0.2)
    assert np.max(np.abs(u - v)) <= 1e-12


def test_gap_terms_match_definitions():
    rng = np.random.default_rng(4)
    x, u = rng.standard_normal((9, 11)), rng.standard_normal((9, 11))
    p = rng.uniform(-0.5, 0.5, (2, 9, 11))
    for isotropic in (True, False):
        tv_u, slack, fit = _tv_numba.gap_terms(x, u, p, isotropic)
        g = np.zeros((2, 9, 11))
        g[0, :-1] = np.diff(u, axis=0)
        g[1, :, :-1] = np.diff(u, axis=1)
        norms = np.sqrt((g ** 2).sum(0)) if isotropic else np.abs(g).sum(0)
        assert tv_u == pytest.approx(norms.sum(), rel=1e-12)
        assert tv_u == pytest.approx(TV(isotropic=isotropic)(u), rel=1e-12)
        assert slack == pytest.approx((norms - (g * p).sum(0)).sum(), rel=1e-12)
        assert fit == pytest.approx(((u - x) ** 2).sum(), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_projection_matches_array_api_path(monkeypatch, dtype):
    x = np.random.default_rng(5).standard_normal((2, 13, 8)).astype(dtype)
    fused = L21().project_into(x, np.empty_like(x), 0.7)
    with disabled():
        plain = L21().project_into(x, np.empty_like(x), 0.7)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert fused.dtype == dtype
    assert np.max(np.abs(fused - plain)) <= tol
    assert np.max(np.sqrt((fused.astype(float) ** 2).sum(0))) <= 0.7 * (1 + tol)


def test_projection_declines_what_it_cannot_do():
    x = np.zeros((3, 4, 4))
    assert _tv_numba.project_pairs(x, np.empty_like(x), 1.0) is None  # three components
    y = np.zeros((2, 4, 8))[:, :, ::2]
    assert _tv_numba.project_pairs(y, np.empty_like(y), 1.0) is None  # not contiguous
    assert _tv_numba.project_pairs(np.zeros((2, 3), np.float32), np.zeros((2, 3)), 1.0) is None  # dtypes differ


def test_recon_numba_0_disables_the_kernels():
    code = ("from recon.functionals import _tv_numba as k; "
            "print(k._iteration_kernel is None, k._project_kernel is None, k.available())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "RECON_NUMBA": "0"})
    assert out.stdout.split() == ["True", "True", "False"]
