"""recon.fusion.model: the forward model's conventions, its two linear maps' adjoints, the Fourier-space shortcuts."""
import numpy as np
import pytest
from scipy import signal

import recon
from recon.fusion import FusionModel
from recon.operators import Warp, dottest
from tests.helpers import tolerance

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("with_warp", [False, True])
def test_forward_maps_adjoint(with_warp, xp, dtype, make):
    model = FusionModel((5, 6), 3, 5)
    k = make(RNG.random((5, 5)), xp.float64)
    warp = Warp(model.domain_shape, [[1.0213, 0.0317, 0.4121], [-0.0271, 0.9834, -0.3313]]) if with_warp else None
    A = model.operator_u(k, warp)
    assert dottest(A, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    B = model.operator_k(make(RNG.random(model.domain_shape)))
    assert dottest(B, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("data_shape, factor, kernel_size", [((5, 6), 2, 5), ((4, 5), 4, 9), ((3, 4), 3, 7)])
def test_sampling_in_fourier_space_equals_the_direct_path(data_shape, factor, kernel_size, xp, dtype, make):
    """Aligned blocks (margin a multiple of factor): S C by folding the spectrum, and the spectrum of C* S* r."""
    model = FusionModel(data_shape, factor, kernel_size)
    assert model.folds
    u, k, r = make(RNG.random(model.domain_shape)), make(RNG.random((kernel_size,) * 2)), make(RNG.random(data_shape))
    xh = model.kernel_spectrum(k) * model.rfft(u)
    direct, folded = model.sample(model.irfft(xh)), model.predict(model.kernel_spectrum(k), model.rfft(u))
    assert folded.dtype == dtype and tuple(folded.shape) == data_shape
    tol = tolerance(dtype, xp, 1e-12, 1e-5)
    assert np.allclose(recon.backend.to_numpy(folded), recon.backend.to_numpy(direct), rtol=0, atol=tol * 10)
    spec, ref = model.sample_adjoint_spectrum(r), model.rfft(model.sample_adjoint(r))
    assert spec.dtype == ref.dtype
    assert np.allclose(recon.backend.to_numpy(spec), recon.backend.to_numpy(ref), rtol=0, atol=tol * 10)
    A = model.operator_u(make(RNG.random((kernel_size,) * 2), xp.float64))
    assert dottest(A, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    B = model.operator_k(u)
    assert dottest(B, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("data_shape, factor, kernel_size", [((5, 6), 3, 5), ((25, 25), 4, 41), ((4, 5), 2, 9)])
def test_pruned_kernel_ffts_equal_the_full_ones(data_shape, factor, kernel_size, xp, dtype, make):
    """kernel_spectrum (row FFTs on the kernel's rows only), correlate_window (inverse FFTs on the window's columns)."""
    model = FusionModel(data_shape, factor, kernel_size)
    k, u, r = make(RNG.random((kernel_size,) * 2)), make(RNG.random(model.domain_shape)), make(RNG.random(data_shape))
    big = np.zeros(model.domain_shape)
    big[:kernel_size, :kernel_size] = recon.backend.to_numpy(k)
    ref = np.fft.rfft2(np.roll(big, (-model.margin,) * 2, axis=(0, 1)))
    kh = model.kernel_spectrum(k)
    tol = tolerance(dtype, xp, 1e-12, 1e-5)
    assert np.allclose(recon.backend.to_numpy(kh), ref, rtol=0, atol=tol * np.abs(ref).max())
    uh, rh = model.rfft(u), model.sample_adjoint_spectrum(r)
    w, w_ref = model.correlate_window(uh, rh), model.kernel_window(model.correlate(uh, rh))
    assert w.dtype == dtype and tuple(w.shape) == (kernel_size, kernel_size)
    assert np.allclose(recon.backend.to_numpy(w), recon.backend.to_numpy(w_ref), rtol=0, atol=tol * 10)


def test_aligned_forward_model_convention():
    model = FusionModel((4, 5), 2, 9)
    u, k = RNG.random(model.domain_shape), RNG.random((9, 9))
    ref = signal.convolve(u, k, mode="same")[4:-4, 4:-4].reshape(4, 2, 5, 2).mean(axis=(1, 3))
    assert model.folds and np.allclose(model.operator_u(k)(u), ref, atol=1e-13)


def test_forward_model_convention():
    """f = block-mean(crop(scipy.signal.convolve(u, k, 'same'))): kernel centre at kernel_size // 2."""
    model = FusionModel((4, 5), 2, 7)
    u = RNG.random(model.domain_shape)
    k = RNG.random((7, 7))
    m = 3
    ref = signal.convolve(u, k, mode="same")[m:-m, m:-m].reshape(4, 2, 5, 2).mean(axis=(1, 3))
    assert np.allclose(model.operator_u(k)(u), ref, atol=1e-13)
    assert np.allclose(model.operator_k(u)(k), ref, atol=1e-13)
    # a kernel with its mass at (centre + (2, -1)) moves the content by (+2, -1)
    delta = np.zeros((7, 7))
    delta[m + 2, m - 1] = 1
    blurred = signal.convolve(u, delta, mode="same")
    assert np.allclose(blurred[5:8, 5:8], u[3:6, 6:9])
