"""Published WCRR / CRR checkpoints: tensor mapping against the authors' definitions, and the
denoising PSNR on Set12 against the authors' own figures (shared data; skipped when absent).

Run as a script for the full Set12 table (both noise levels, per image, JSON lines):
``python -m tests.learned.test_published``.
"""
import json
import math
import re
import sys

import numpy as np
import pytest

from tests.helpers.shared_data import SET12, WEIGHTS, needs_weights

# the authors' accelerated_gd_batch, lambda = 1, tol 1e-4, ||W|| by 200 power steps, float32 (data README)
REFERENCE = {
    15: [31.72, 34.30, 32.67, 31.25, 31.86, 31.17, 31.35, 33.92, 31.69, 32.02, 31.99, 31.86],
    25: [29.19, 32.12, 30.05, 28.39, 28.99, 28.50, 28.78, 31.58, 28.78, 29.68, 29.59, 29.36],
}



@pytest.fixture(scope="module")
def wcrr():
    pytest.importorskip("torch")
    from recon.learned import published_regularizer

    # the same object recon.denoise(reg="wcrr-published") uses (loaded once: the power method takes 10-60 s)
    return published_regularizer("wcrr-published")


def denoise_set12(reg, sigma255, images=range(1, 13), seed=0):
    """PSNR per image of recon's proximal denoiser (lambda = 1, tol 1e-4) at noise sigma255/255."""
    from recon.io import read_image
    from recon.metrics import psnr

    r = reg.at_noise_level(sigma255 / 255)
    out = []
    for i in images:
        x = read_image(SET12 / f"{i:02d}.png").astype(np.float32)
        rng = np.random.default_rng(seed + i)
        y = (x + (sigma255 / 255) * rng.standard_normal(x.shape)).astype(np.float32)
        z, iters = r.prox_with_info(y, 1.0, tol=1e-4)
        out.append((i, psnr(z, x, data_range=1.0), iters))
    return out


@needs_weights
@pytest.mark.slow  # loading runs the authors' 200-step power method on 256x256 (10-60 s)
def test_mapping_matches_the_authors_definitions(wcrr):
    """Kernels zero-mean in the first layer, ||W|| = 1 on 256x256, odd activation with slopes
    in [-rho, mu], and the scaling exp(S(sigma))/sigma at the spline's knots."""
    import torch

    state = torch.load(WEIGHTS / "wcrr-nn" / "checkpoint_6000.pth", map_location="cpu",
                       weights_only=False)["state_dict"]
    k0 = wcrr.kernels[0]
    assert np.allclose(k0.sum(axis=(1, 2, 3)), 0, atol=1e-6)
    raw = state["conv_layer.conv_layers.0.parametrizations.weight.original"].numpy()
    raw = raw - raw.mean(axis=(1, 2, 3), keepdims=True)
    assert np.allclose(k0 * math.sqrt(wcrr.extras["L"]), raw, rtol=1e-5, atol=1e-7)
    mu = math.exp(float(state["mu_"]))
    assert wcrr.extras["mu"] == pytest.approx(mu)
    s = wcrr.activation
    assert -1 - 1e-9 <= s.slope_min and s.slope_max <= mu + 1e-9
    t = np.linspace(-0.3, 0.3, 61)
    assert np.allclose(s(t), -s(-t), atol=1e-12)
    scale = wcrr.at_noise_level(15 / 255).scale
    coeff = state["spline_scaling.coefficients"].double().numpy()
    assert np.allclose(scale, np.exp(coeff[:, 5]) / (15 + 1e-5), rtol=1e-10)  # knot 5 of 0..30 is 15


@needs_weights
def test_crr_checkpoint_is_convex():
    pytest.importorskip("torch")
    from recon.learned import load_published

    reg = load_published(WEIGHTS / "crr-nn-wcrr-repo", L=1.0)  # L only scales W; not what this checks
    assert reg.weak_convexity == 0 and reg.activation.slope_min >= 0


def test_errors(tmp_path):
    pytest.importorskip("torch")
    from recon.learned import load_published

    with pytest.raises(FileNotFoundError, match=re.escape("config.json")):
        load_published(tmp_path)
    with pytest.raises(ValueError, match="dtype"):
        load_published(tmp_path, dtype="int8")


@needs_weights
@pytest.mark.slow
def test_set12_psnr_matches_the_authors(wcrr):
    """Four 256x256 Set12 images at sigma = 25: mean PSNR within 0.05 dB of the authors' run
    (different noise draws; the full table is in the script output)."""
    got = denoise_set12(wcrr, 25, images=range(1, 5))
    mean = np.mean([p for _, p, _ in got])
    assert mean == pytest.approx(np.mean(REFERENCE[25][:4]), abs=0.05), got


if __name__ == "__main__":
    from recon.learned import load_published

    reg = load_published(WEIGHTS / "wcrr-nn")
    for sigma in (15, 25):
        rows = denoise_set12(reg, sigma)
        for (i, p, it), ref in zip(rows, REFERENCE[sigma]):
            print(json.dumps({"sigma": sigma, "image": f"{i:02d}", "psnr": round(p, 3), "authors": ref,
                              "iterations": it}), flush=True)
        print(json.dumps({"sigma": sigma, "mean_psnr": round(float(np.mean([p for _, p, _ in rows])), 3),
                          "authors_mean": round(float(np.mean(REFERENCE[sigma])), 3)}), flush=True)
    sys.exit(0)


@pytest.mark.skipif(not (WEIGHTS / "crr-nn" / "Sigma_25_t_10").is_dir(), reason="shared weights absent")
@pytest.mark.parametrize("override", [False, True])
def test_original_crr_nn_gradient_is_the_authors_formula(override):
    """Original CRR-NN (per-channel splines): recon's gradient equals lambda W^T phi_c(mu W x), written here
    from the authors' definitions (zero-mean layers, monotone clipping, their spline evaluation), in torch."""
    torch = pytest.importorskip("torch")
    from recon.learned import load_published

    folder = WEIGHTS / "crr-nn" / "Sigma_25_t_10"
    kwargs = dict(lmbd=11.3, mu=16.0) if override else {}
    reg = load_published(folder, dtype="float64", L=1.0, **kwargs)  # L only enters the step size
    state = torch.load(folder / "checkpoint_10.pth", map_location="cpu", weights_only=False)["state_dict"]
    lmbd = 11.3 if override else float(state["lmbd"])
    mu = 16.0 if override else float(state["mu"])
    ws = []
    for layer in range(2):
        w = state[f"conv_layer.conv_layers.{layer}.parametrizations.weight.original"].double()
        ws.append(w - w.mean(dim=(1, 2, 3), keepdim=True))
    size, grid = 21, 0.2 / 20
    c = state["activation.coefficients_vect"].double().view(32, size)
    slopes = torch.clamp(c[:, 1:] - c[:, :-1], min=0)
    slopes[:, 0] = slopes[:, -1] = 0
    c = torch.cat([torch.zeros(32, 1, dtype=c.dtype), torch.cumsum(slopes, 1)], 1)
    c = (c - c[:, size // 2 : size // 2 + 1]).reshape(-1)
    x = torch.from_numpy(np.random.default_rng(0).random((1, 1, 33, 30)))
    z = x
    for w in ws:
        z = torch.nn.functional.conv2d(z, w, padding=3)
    u = mu * z
    floor = torch.floor(u.clamp(-grid * (size // 2), grid * (size // 2 - 1)) / grid)
    frac = u / grid - floor
    index = (torch.arange(32).view(1, -1, 1, 1) * size + size // 2 + floor).long()
    g = c[index + 1] * frac + c[index] * (1 - frac)
    for w in reversed(ws):
        g = torch.nn.functional.conv_transpose2d(g, w, padding=3)
    want = lmbd * g[0, 0].numpy()
    got = reg.grad(x[0, 0].numpy())
    assert np.max(np.abs(got - want)) <= 1e-10 * np.max(np.abs(want))
    assert reg.weak_convexity == 0 and reg.activation.slope_min >= 0 and reg.activation.channels == 32
    assert reg.extras["lmbd"] == lmbd and reg.extras["mu"] == mu


@pytest.mark.skipif(not (WEIGHTS / "crr-nn" / "Sigma_25_t_10").is_dir(), reason="shared weights absent")
def test_original_crr_nn_errors():
    pytest.importorskip("torch")
    from recon.learned import load_published

    with pytest.raises(ValueError, match="sigma must be omitted"):
        load_published(WEIGHTS / "crr-nn" / "Sigma_25_t_10", sigma=0.1, L=1.0)
    with pytest.raises(ValueError, match="mu must be"):
        load_published(WEIGHTS / "crr-nn" / "Sigma_25_t_10", mu=-1.0, L=1.0)
    with pytest.raises(ValueError, match="original CRR-NN checkpoints only"):
        load_published(WEIGHTS / "wcrr-nn", lmbd=2.0, L=1.0)
