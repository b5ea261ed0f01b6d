"""Prox-trained CRR-NN: the batched prox solves its problem, the implicit gradient is the true one, runs resume."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from recon.learned.implicit import cg, prox_batch  # noqa: E402
from recon.learned.train import TorchRidge, to_regularizer  # noqa: E402
from recon.learned.train_prox import train_crr_prox  # noqa: E402


def _model(seed=0):
    rng = np.random.default_rng(seed)
    kernels = [0.5 * rng.standard_normal((2, 1, 3, 3)), 0.5 * rng.standard_normal((3, 2, 3, 3))]
    grid = np.linspace(-0.5, 0.5, 41)
    return TorchRidge(kernels, 0.1 * np.tanh(4 * grid), -0.5, 0.5, scale=np.array([1.0, 1.3, 0.8]),
                      dtype="float64", learn_scale=True)


def _lipschitz(model):
    w = [k.detach() for k in model.weights]
    u = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    for _ in range(200):
        u = model.conv_t(model.conv(u))
        u = u / torch.linalg.norm(u)
    slope = float(torch.max(torch.diff(model.coefficients.detach())) / model.step)
    return 1.01 * float(torch.linalg.norm(model.conv_t(model.conv(u))).detach()) * slope, w


def _problem(seed=1):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.random((2, 1, 8, 8)))
    return x, x + 0.1 * torch.from_numpy(rng.standard_normal(x.shape))


def test_prox_batch_satisfies_the_optimality_condition():
    model = _model()
    _, y = _problem()
    lam = 0.7
    L, _ = _lipschitz(model)
    z, k = prox_batch(model, y, lam, L, tol=1e-12, iters=5000)
    residual = (z - y) + lam * model.grad(z).detach()
    assert k < 5000
    assert float(torch.max(torch.abs(residual))) < 1e-9
    # each sample is solved on its own: the same answer one at a time
    z1, _ = prox_batch(model, y[1:], lam, L, tol=1e-12, iters=5000)
    assert torch.allclose(z[1:], z1, atol=1e-9)


def test_implicit_gradient_matches_finite_differences():
    model = _model()
    x, y = _problem()
    lam = 0.7
    L, _ = _lipschitz(model)

    def loss():
        z, _ = prox_batch(model, y, lam, L, tol=1e-13, iters=20000)
        return float(torch.mean((z - x) ** 2)), z

    _, z = loss()
    d = model.slopes(model.conv(z).detach())
    v, _ = cg(lambda u: u + lam * model.conv_t(d * model.conv(u)).detach(), 2 * (z - x) / z.numel(), 1e-12, 500)
    model.zero_grad()
    torch.autograd.backward(lam * model.grad(z), grad_tensors=-v)
    for param, index in ((model.weights[1], (1, 0, 1, 2)), (model.weights[0], (0, 0, 2, 1)),
                         (model.log_scale, (0, 2, 0, 0)), (model.coefficients, (25,))):
        analytic = float(param.grad[index])
        eps = 1e-6
        with torch.no_grad():
            param[index] += eps
        plus, _ = loss()
        with torch.no_grad():
            param[index] -= 2 * eps
        minus, _ = loss()
        with torch.no_grad():
            param[index] += eps
        assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-5, abs=1e-10)


def test_cg_solves_a_batched_spd_system():
    rng = np.random.default_rng(0)
    m = torch.from_numpy(rng.standard_normal((6, 6)))
    a = m @ m.T + torch.eye(6, dtype=torch.float64)
    rhs = torch.from_numpy(rng.standard_normal((3, 1, 2, 3)))
    sol, k = cg(lambda u: (u.reshape(3, 6) @ a).reshape(u.shape), rhs, 1e-12, 50)
    assert k <= 7
    assert torch.allclose((sol.reshape(3, 6) @ a).reshape(rhs.shape), rhs, atol=1e-9)


def _folder(tmp_path, n=3):
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(n):
        Image.fromarray(rng.uniform(0, 255, (24, 24)).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


def test_train_crr_prox_rejects_bad_arguments(tmp_path):
    folder = _folder(tmp_path)
    with pytest.raises(ValueError, match="steps or time_limit"):
        train_crr_prox(folder)
    with pytest.raises(ValueError, match="lam"):
        train_crr_prox(folder, steps=1, lam=-1.0)
    with pytest.raises(ValueError, match="validation_images"):
        train_crr_prox(folder, steps=1, validation_images=3)
    with pytest.raises(FileNotFoundError, match="images"):
        train_crr_prox(tmp_path / "missing", steps=1)


# fast enough for the fast suite: a few steps of a 1 -> 2 -> 4 channel model on 24x24 images
def test_train_crr_prox_runs_keeps_the_model_class_and_resumes(tmp_path):
    folder = _folder(tmp_path)
    ck = tmp_path / "ck.pt"
    kw = dict(batch=2, patch=12, channels=(1, 2, 4), validation_images=1, validation_crop=16, validate_every=2,
              checkpoint=ck, checkpoint_every=1)
    model, history = train_crr_prox(folder, steps=2, **kw)
    assert len(history["train"]) == 2 and ck.is_file()
    assert all(math.isfinite(e["loss"]) for e in history["train"])
    assert history["best"] is not None and math.isfinite(history["best"][1])
    slopes = torch.diff(model.coefficients.detach()) / model.step
    assert float(slopes.min()) >= -1e-5 and float(slopes.max()) <= 1 + 1e-5
    assert float(model.weights[0].detach().sum(dim=(1, 2, 3)).abs().max()) < 1e-5
    model, history = train_crr_prox(folder, steps=3, **kw)
    assert len(history["train"]) == 3  # two restored, one new
    reg = to_regularizer(model)
    assert reg.extras["lam"] == pytest.approx(math.exp(float(model.log_lam.detach())))
    assert reg.weak_convexity == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_grad_nograd_is_grad(dtype, threads):
    # the training solves' gradient (compiled activation, threads over the batch) is the autograd one
    rng = np.random.default_rng(3)
    kernels = [rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((3, 2, 3, 3))]
    grid = np.linspace(-0.5, 0.5, 41)
    model = TorchRidge(kernels, 0.1 * np.tanh(4 * grid) + 0.05 * grid, -0.5, 0.5,  # sloped ends: extension
                       scale=np.array([1.0, 1.3, 0.8]), dtype=dtype, learn_scale=True)
    x = torch.from_numpy(rng.standard_normal((5, 1, 9, 7))).to(getattr(torch, dtype))
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fast = model.grad_nograd(x)
    finally:
        torch.set_num_threads(before)
    slow = model.grad(x).detach()
    assert fast.dtype == x.dtype and fast.shape == x.shape and not fast.requires_grad
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert float(torch.max(torch.abs(fast - slow))) <= tol * float(torch.max(torch.abs(slow)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_compiled_has_the_autograd_derivatives(dtype):
    # the training's backward step: same values and parameter gradients as the pure-torch grad
    from recon.learned.torch_ops import compiled_ready

    if not compiled_ready(torch.zeros(1)):
        pytest.skip("numba not installed or RECON_NUMBA=0")
    rng = np.random.default_rng(5)
    kernels = [rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((3, 2, 3, 3))]
    grid = np.linspace(-0.5, 0.5, 41)
    model = TorchRidge(kernels, 0.1 * np.tanh(4 * grid) + 0.05 * grid, -0.5, 0.5,
                       scale=np.array([1.0, 1.3, 0.8]), dtype=dtype, learn_scale=True)
    x = torch.from_numpy(rng.standard_normal((4, 1, 9, 7))).to(getattr(torch, dtype))
    v = torch.from_numpy(rng.standard_normal(x.shape)).to(x.dtype)
    results = []
    for name in ("grad", "grad_compiled"):
        model.zero_grad()
        xs = x.clone().requires_grad_(True)
        out = getattr(model, name)(xs)
        torch.autograd.backward(out, grad_tensors=v)
        results.append([out.detach(), xs.grad] + [p.grad.clone() for p in
                                                  (*model.weights, model.coefficients, model.log_scale)])
    tol = 2e-4 if dtype == "float32" else 1e-10
    for want, got in zip(*results):
        assert got.shape == want.shape and got.dtype == want.dtype
        assert float(torch.max(torch.abs(got - want))) <= tol * (1 + float(torch.max(torch.abs(want))))
