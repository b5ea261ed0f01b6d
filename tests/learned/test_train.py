"""The PyTorch twin agrees with RidgeRegularizer; the CRR-NN trainer runs, checkpoints and resumes."""
import numpy as np
import pytest

from tests.helpers.ridge import make_reg

torch = pytest.importorskip("torch")
from recon.learned.train import from_regularizer, train_crr  # noqa: E402


@pytest.mark.parametrize("kind", ["crr", "wcrr"])
def test_torch_twin_matches_recon(kind):
    reg = make_reg(kind)
    model = from_regularizer(reg, dtype="float64")
    x = 0.2 * np.random.default_rng(0).standard_normal((12, 10))
    tx = torch.from_numpy(x)[None, None]
    assert np.allclose(model.grad(tx)[0, 0].detach().numpy(), reg.grad(x), atol=1e-12)
    assert float(model.value(tx).detach()) == pytest.approx(reg(x), rel=1e-10, abs=1e-14)
    assert model.lipschitz() == pytest.approx(reg.activation.slope_max)
    z, k = model.prox(tx, 1.0)
    z_ref, k_ref = reg.prox_with_info(x, 1.0)
    assert k == k_ref and np.allclose(z[0, 0].numpy(), z_ref, atol=1e-10)


def test_projection_gives_an_admissible_convex_model():
    reg = make_reg("crr")
    model = from_regularizer(reg, dtype="float64")
    with torch.no_grad():
        model.coefficients.add_(torch.randn(model.coefficients.shape, dtype=torch.float64) * 0.01)
        model.weights[0].add_(1.0)
    model.project(power_steps=100, size=16)
    slopes = torch.diff(model.coefficients.detach()) / model.step  # a Parameter: float() of it warns
    assert float(slopes.min()) >= 0 and float(slopes.max()) <= 1 + 1e-12
    assert float(model.weights[0].detach().sum(dim=(1, 2, 3)).abs().max()) < 1e-12


# fast enough for the fast suite: a few steps of a 1 -> 2 -> 4 channel model on 24x24 images
def test_train_smoke_checkpoint_and_resume(tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray((rng.uniform(0, 255, (24, 24))).astype(np.uint8)).save(images / f"{i}.png")
    ck = tmp_path / "ck.pt"
    model, losses = train_crr(images, steps=2, batch=2, patch=16, t=2, channels=(1, 2, 4), checkpoint=ck)
    assert len(losses) == 2 and all(np.isfinite(losses)) and ck.is_file()
    model, losses = train_crr(images, steps=3, batch=2, patch=16, t=2, channels=(1, 2, 4), checkpoint=ck)
    assert len(losses) == 3  # two restored, one new


@pytest.mark.parametrize("sizes", [((4, 1, 5, 5), (8, 4, 5, 5), (6, 8, 5, 5)), ((3, 1, 3, 3), (2, 3, 7, 7))])
def test_conv_transpose_is_the_adjoint_of_the_chain(sizes):
    """conv2d with flipped, channel-swapped kernels is conv_transpose2d: dot test, values, kernel gradients."""
    from recon.learned.torch_ops import conv_transpose
    gen = torch.Generator().manual_seed(3)
    ws = [torch.randn(s, dtype=torch.float64, generator=gen, requires_grad=True) for s in sizes]
    x = torch.randn(2, 1, 11, 9, dtype=torch.float64, generator=gen)
    y = torch.randn(2, sizes[-1][0], 11, 9, dtype=torch.float64, generator=gen)
    wx = x
    for w in ws:
        wx = torch.nn.functional.conv2d(wx, w, padding=w.shape[-1] // 2)
    wty = conv_transpose(y, ws)
    lhs, rhs = float(torch.sum(wx * y).detach()), float(torch.sum(x * wty).detach())
    assert abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1.0)
    ref = y
    for w in reversed(ws):
        ref = torch.nn.functional.conv_transpose2d(ref, w, padding=w.shape[-1] // 2)
    assert float(torch.max(torch.abs(wty - ref)).detach()) <= 1e-13 * float(torch.max(torch.abs(ref)).detach())
    g = torch.autograd.grad(torch.sum(wty * wty), ws)
    g_ref = torch.autograd.grad(torch.sum(ref * ref), ws)
    for a, b in zip(g, g_ref):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
