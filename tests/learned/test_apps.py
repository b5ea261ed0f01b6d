"""recon.denoise / recon.deblur with ridge regularizers (synthetic models; published ones when present)."""
import numpy as np
import pytest

import recon
from recon.functionals import RidgeRegularizer
from recon.metrics import psnr
from recon.operators import Convolution
from recon.operators.convolution import gaussian_kernel
from tests.helpers.ridge import make_reg
from tests.helpers.shared_data import SET12, needs_weights


def _scaled(reg):
    return RidgeRegularizer(reg.kernels, reg.activation, noise_scaling=lambda s: np.full(12, 1.0 / (0.1 + s)),
                            w_norm=reg.w_norm)


def test_denoise_with_an_instance_is_its_prox():
    reg = make_reg("wcrr")
    y = 0.2 * np.random.default_rng(0).standard_normal((12, 10))
    got = recon.denoise(y, reg=reg, weight=0.7)
    assert np.allclose(got, reg.prox(y, 0.7))
    res = recon.denoise(y, reg=reg, return_result=True)  # default weight 1 for ridge priors
    assert np.allclose(res.x, reg.prox(y, 1.0)) and res.converged


def test_denoise_sigma_sets_the_noise_scaling():
    reg = _scaled(make_reg("wcrr"))
    y = 0.2 * np.random.default_rng(0).standard_normal((12, 10))
    assert np.allclose(recon.denoise(y, reg=reg, sigma=0.1), reg.at_noise_level(0.1).prox(y, 1.0))
    with pytest.raises(ValueError, match="sigma is required"):
        recon.denoise(y, reg=reg)
    with pytest.raises(ValueError, match="sigma must be"):
        recon.denoise(y, reg=reg, sigma=-0.1)


@pytest.mark.parametrize("kind", ["crr", "wcrr"])
def test_deblur_with_a_ridge_prior_decreases_the_objective(kind):
    reg = make_reg(kind)
    rng = np.random.default_rng(1)
    clean = 0.2 * rng.standard_normal((16, 16))
    k = gaussian_kernel(1.0)
    y = Convolution(k, clean.shape)(clean) + 0.01 * rng.standard_normal(clean.shape)
    res = recon.deblur(y, k, reg=reg, weight=0.05, iters=200, return_result=True)
    A = Convolution(k, clean.shape)

    def obj(x):
        return 0.5 * np.sum((A(x) - y) ** 2) + 0.05 * reg(x)

    assert obj(res.x) < obj(y)
    # first-order optimality (CRR: the minimiser; WCRR: a critical point)
    g = A.adjoint(A(res.x) - y) + 0.05 * reg.grad(res.x)
    assert np.linalg.norm(g) < 1e-3 * np.linalg.norm(A.adjoint(y))


def test_unknown_reg_lists_the_ridge_names():
    with pytest.raises(ValueError, match="'wcrr'"):
        recon.denoise(np.zeros((4, 4)), reg="nope")


@needs_weights
@pytest.mark.slow
def test_published_wcrr_by_its_explicit_name_beats_tv_on_a_set12_crop():
    pytest.importorskip("torch")
    from recon.io import read_image

    clean = read_image(SET12 / "01.png").astype(np.float32)[64:192, 64:192]
    y = (clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)
    x = recon.denoise(y, reg="wcrr-published", sigma=25 / 255)
    assert x.dtype == np.float32
    best_tv = max(psnr(recon.denoise(y, reg="tv", weight=w), clean, data_range=1) for w in (0.06, 0.08, 0.1))
    assert psnr(x, clean, data_range=1) > best_tv + 0.5
