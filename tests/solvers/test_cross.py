"""Solvers against each other and against closed forms, on recon's own operators and functionals.

Periodic convolutions are diagonal in Fourier space, so Tikhonov deblurring with a periodic blur
and a periodic difference regulariser has the closed-form solution

.. math::
    \\hat x = \\mathcal F^{-1}\\Bigl(\\frac{\\bar H\\,\\mathcal F y}{|H|^2 + 2\\lambda |D|^2}\\Bigr)

for :math:`\\min_x \\tfrac12\\|h * x - y\\|^2 + \\lambda\\|d * x\\|^2` (``Tikhonov`` has no ½).  The
forward-difference Neumann ``Gradient`` is *not* diagonalised by the FFT, hence the periodic
``[1, -1]`` kernel here.
"""
import numpy as np
import pytest

from recon.backend import to_numpy
from recon.functionals import L21, TV, L2DataFidelity, SeparableSum, Tikhonov
from recon.operators import Convolution, Gradient, stack
from recon.operators.convolution import gaussian_kernel
from recon.solvers import fista, pdhg


def _blurred(shape=(24, 20), sigma=1.2, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros(shape)
    x[5:15, 4:12] = 1.0
    x[10:20, 9:17] += 0.5
    B = Convolution(gaussian_kernel(sigma), shape)
    return B, B(x) + noise * rng.standard_normal(shape)


def _closed_form(B, y, lam, D=None):
    H = to_numpy(B.transfer_function())
    Dhat = np.ones_like(H) if D is None else to_numpy(D.transfer_function())
    return np.real(np.fft.ifftn(np.conj(H) * np.fft.fftn(y) / (np.abs(H) ** 2 + 2 * lam * np.abs(Dhat) ** 2)))


def _rel(a, b):
    return np.linalg.norm(to_numpy(a) - b) / np.linalg.norm(b)


def test_tikhonov_deblurring_identity_regulariser():
    B, y = _blurred()
    lam = 0.01
    x_hat = _closed_form(B, y, lam)
    res_f = fista(L2DataFidelity(y, B), lam * Tikhonov(), np.zeros_like(y), iters=3000, tol=1e-12)
    assert _rel(res_f.x, x_hat) <= 1e-6
    # pdhg: f = ½‖· − y‖², K = blur, g = λ‖·‖².  f* and g are both strongly convex, so plain PDHG
    # converges linearly; Algorithm 2's O(1/k²) step schedule would be slower here.
    res_p = pdhg(L2DataFidelity(y), lam * Tikhonov(), B, iters=3000, tol=1e-12, record_every=50)
    assert _rel(res_p.x, x_hat) <= 1e-6
    gap, objective = res_p.history["gap"][-1], res_p.history["objective"][-1]
    assert -1e-14 * objective <= gap <= 1e-10 * objective  # >= 0 up to rounding


def test_tikhonov_deblurring_periodic_difference_regulariser():
    # a mild blur: |H|² + 2λ|D|² vanishes nowhere but is small where both are (vertical high frequencies)
    B, y = _blurred(sigma=0.7, seed=1)
    lam = 0.02
    D = Convolution(np.array([[1.0, -1.0]]), y.shape)  # periodic horizontal differences
    x_hat = _closed_form(B, y, lam, D)
    smooth = L2DataFidelity(y, B) + lam * Tikhonov(D)
    res_f = fista(smooth, None, np.zeros_like(y), iters=5000, tol=1e-12)
    assert _rel(res_f.x, x_hat) <= 1e-6
    # pdhg with K = [B; D], f = (½‖· − y‖², λ‖·‖²), g = 0
    res_p = pdhg(SeparableSum(L2DataFidelity(y), lam * Tikhonov()), None, stack([B, D]), iters=20000, tol=1e-11,
                 record_every=100)
    assert res_p.converged
    assert _rel(res_p.x, x_hat) <= 1e-6


def _tv_objective(B, y, lam, x):
    return 0.5 * np.sum((to_numpy(B(x)) - y) ** 2) + lam * L21()(Gradient(y.shape)(x))


@pytest.mark.slow
def test_tv_deblurring_fista_and_pdhg_agree():
    B, y = _blurred(shape=(20, 16), seed=2)
    lam = 0.01
    G = Gradient(y.shape)
    res_p = pdhg(SeparableSum(L2DataFidelity(y), lam * L21()), None, stack([B, G]), iters=20000, tol=0.0,
                 record_every=500)
    # g = 0 makes the gap an indicator of K*y = 0 (infinite under rounding); the KKT residuals certify
    assert res_p.history["primal_residual"][-1] <= 1e-7
    assert res_p.history["dual_residual"][-1] <= 1e-7
    tv = TV(y.shape, inner_tol=1e-10, inner_iters=5000)
    res_f = fista(L2DataFidelity(y, B), lam * tv, np.zeros_like(y), iters=5000, tol=1e-10)
    assert _rel(res_f.x, to_numpy(res_p.x)) <= 1e-4
    P_p, P_f = _tv_objective(B, y, lam, res_p.x), _tv_objective(B, y, lam, res_f.x)
    assert abs(P_p - P_f) <= 1e-8 * P_p
