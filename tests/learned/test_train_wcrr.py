"""WCRR multi-noise trainer: the torch model is the recon regularizer, gradients are the true ones, runs resume."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from recon.functionals import RidgeRegularizer  # noqa: E402
from recon.learned import load_npz, save_npz  # noqa: E402
from recon.learned.implicit import cg, prox_batch  # noqa: E402
from recon.learned.parametrization import project_activation  # noqa: E402
from recon.learned.train_wcrr import WCRRConfig, train_wcrr  # noqa: E402
from recon.learned.wcrr_model import TorchWCRR, to_regularizer  # noqa: E402


def _model(rho=1.0, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    kernels = [0.5 * rng.standard_normal((2, 1, 3, 3)), 0.5 * rng.standard_normal((3, 2, 3, 3))]
    grid = np.linspace(-0.5, 0.5, 41)
    step = grid[1] - grid[0]
    cvx = project_activation(0.3 * np.tanh(3 * grid) + 0.01 * rng.standard_normal(41), step)
    ccv = project_activation(0.2 * np.tanh(6 * grid), step)
    scaling = rng.uniform(1.0, 3.0, (3, 5))
    model = TorchWCRR(kernels, cvx, ccv, 1.7, scaling, x_min=-0.5, x_max=0.5, rho=rho, sigma_max=30 / 255,
                      dtype=dtype)
    start = torch.randn(1, 1, 16, 16, dtype=getattr(torch, dtype), generator=torch.Generator().manual_seed(seed))
    model.project(start, 300)  # ||W|| = 1 up to 300 power steps
    return model


def _problem(seed=1):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.random((3, 1, 8, 8)))
    sig = torch.tensor([3 / 255, 17 / 255, 29 / 255], dtype=torch.float64)
    return x, x + sig.view(-1, 1, 1, 1) * torch.from_numpy(rng.standard_normal(x.shape)), sig


def test_noise_scaling_and_gradient_are_the_recon_regularizers():
    model = _model()
    reg = to_regularizer(model, norm_shape=(16, 16))
    with torch.no_grad():  # the export divides W back to norm 1 when its finer power iteration finds it above
        for w in model.weights:
            w /= reg.extras.get("w_norm_before", 1.0) ** (1 / len(model.weights))
    x = np.random.default_rng(2).random((10, 12))
    for s in (0.0, 4 / 255, 25 / 255, 33 / 255):  # 33 is past the last knot: the linear extension
        model.set_noise(s)
        r = reg.at_noise_level(s)
        assert np.allclose(np.exp(model.log_scale().detach().numpy().reshape(-1)), r.scale, rtol=1e-12)
        g = model.grad(torch.from_numpy(x).view(1, 1, 10, 12)).detach().numpy()[0, 0]
        assert np.allclose(g, r.grad(x), rtol=1e-5, atol=1e-8)  # the export's kernels are float32
        value = float(model.value(torch.from_numpy(x).view(1, 1, 10, 12)).detach())
        assert value == pytest.approx(r(x), rel=1e-5)
    assert reg.extras["rho"] == 1.0 and reg.extras["mu"] == pytest.approx(1.7)


def test_compiled_activation_has_the_autograd_derivatives():
    model = _model()
    _, y, sig = _problem()
    model.set_noise(sig)
    seed = torch.from_numpy(np.random.default_rng(3).standard_normal(y.shape))
    grads = []
    for compiled in (True, False):
        model.zero_grad()
        z = model.conv(y)
        g = (model.conv_t(model.activation(z)) if not compiled else model.grad(y))
        torch.sum(g * seed).backward()
        grads.append([p.grad.clone() for p in (model.weights[0], model.weights[1], model.cvx, model.ccv,
                                               model.log_mu, model.scaling)])
        if compiled:
            assert torch.allclose(g, model.grad_nograd(y), atol=1e-12)
    for a, b in zip(*grads):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_value_gradient_is_grad_and_weak_convexity_holds():
    model = _model()
    _, y, sig = _problem()
    model.set_noise(sig)
    x = y.clone().requires_grad_(True)
    torch.sum(model.value(x)).backward()
    assert torch.allclose(x.grad, model.grad_nograd(y), atol=1e-10)
    reg = to_regularizer(model, norm_shape=(32, 32)).at_noise_level(20 / 255)
    assert reg.activation.slope_min >= -1 - 1e-9  # phi' >= -rho: R + 1/2 |.|^2 convex
    rng = np.random.default_rng(4)
    for _ in range(20):
        a, b = rng.random((12, 12)), rng.random((12, 12))
        f = lambda u: reg(u) + 0.5 * float(np.sum(u * u))  # noqa: E731
        assert f(0.5 * (a + b)) <= 0.5 * (f(a) + f(b)) + 1e-10


@pytest.mark.parametrize("rho", [1.0, 0.0])
def test_implicit_gradient_matches_finite_differences(rho):
    model = _model(rho)
    x, y, sig = _problem()
    model.set_noise(sig)

    def loss():
        z, _ = prox_batch(model, y, 1.0, model.lipschitz(), tol=1e-13, iters=50000)
        return float(torch.mean((z - x) ** 2)), z

    _, z = loss()
    d = model.slopes(model.conv(z))
    v, _ = cg(lambda u: u + model.conv_t(d * model.conv(u)).detach(), 2 * (z - x) / z.numel(), 1e-12, 2000)
    model.zero_grad()
    torch.autograd.backward(model.grad(z), grad_tensors=-v)
    checks = [(model.weights[1], (1, 0, 1, 2)), (model.weights[0], (0, 0, 2, 1)), (model.cvx, (18,)),
              (model.log_mu, ()), (model.scaling, (2, 1)), (model.scaling, (0, 3))]
    if rho:
        checks.append((model.ccv, (22,)))
    for param, index in checks:
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
        assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-4, abs=1e-10)


def test_set_noise_rejects_bad_levels():
    model = _model()
    with pytest.raises(ValueError, match="sigma"):
        model.set_noise(-0.1)
    with pytest.raises(ValueError, match="sigma"):
        model.set_noise(float("nan"))
    with pytest.raises(ValueError, match="rho"):
        TorchWCRR([np.ones((1, 1, 3, 3))], np.zeros(5), np.zeros(5), 1.0, np.zeros((1, 3)), rho=0.5)


def _folder(tmp_path, n=3):
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(n):
        Image.fromarray(rng.uniform(0, 255, (24, 24)).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


def test_train_wcrr_rejects_bad_arguments(tmp_path):
    folder = _folder(tmp_path)
    with pytest.raises(ValueError, match="steps or time_limit"):
        train_wcrr(folder)
    with pytest.raises(ValueError, match="mu"):
        train_wcrr(folder, steps=1, mu=0.0)
    with pytest.raises(ValueError, match="validation_sigmas"):
        train_wcrr(folder, steps=1, validation_sigmas=(40 / 255,))
    with pytest.raises(ValueError, match="scaling_knots"):
        train_wcrr(folder, steps=1, scaling_knots=1)
    with pytest.raises(ValueError, match="lr_concave"):
        train_wcrr(folder, steps=1, lr_concave=-1e-3)
    with pytest.raises(ValueError, match="init_clip"):
        train_wcrr(folder, steps=1, init_clip=-0.01)
    with pytest.raises(FileNotFoundError, match="images"):
        train_wcrr(tmp_path / "missing", steps=1)
    with pytest.raises(TypeError, match="unknown recipe options \\['lr_w'\\]"):
        train_wcrr(folder, steps=1, lr_w=1e-3)
    with pytest.raises(ValueError, match="rho"):
        WCRRConfig(rho=0.5)


def test_config_and_keywords_are_the_same_recipe(tmp_path):
    folder = _folder(tmp_path)
    kw = dict(batch=3, patch=12, channels=(1, 2, 4), validation_images=1, validate_every=0, lr_spline=1e-3)
    by_keywords, _ = train_wcrr(folder, steps=1, **kw)
    by_config, _ = train_wcrr(folder, WCRRConfig(**kw), steps=1)
    for a, b in zip(by_keywords.parameters(), by_config.parameters()):
        assert torch.equal(a, b)


def test_init_clip_zero_is_the_authors_zero_start_and_one_step_stays_in_the_model_class(tmp_path):
    folder = _folder(tmp_path)
    kw = dict(batch=3, patch=12, channels=(1, 2, 4), validation_images=1, validate_every=0, init_clip=0.0,
              lr_spline=1e-4)
    model, _ = train_wcrr(folder, steps=0, **kw)
    assert float(model.cvx.detach().abs().max()) == 0.0
    model, _ = train_wcrr(folder, steps=1, **kw)
    c = model.cvx.detach().numpy()
    slopes = np.diff(c) / model.step
    assert np.all(slopes >= -1e-12) and np.all(slopes <= 1 + 1e-12) and np.allclose(c, -c[::-1])
    # one Adam step moves each raw value by <= lr, so each slope by <= 2 lr / step; the projection re-integrates
    assert 0 < np.abs(c).max() <= 2 * c.size * kw["lr_spline"]


def test_lr_concave_is_the_concave_splines_own_rate(tmp_path):
    folder = _folder(tmp_path)
    kw = dict(steps=2, batch=3, patch=12, channels=(1, 2, 4), validation_images=1, validate_every=0, lr_spline=1e-6)
    moved = {}
    for lr_concave in (None, 1e-2):  # None: one group at lr_spline for both splines
        model, _ = train_wcrr(folder, lr_concave=lr_concave, **kw)
        moved[lr_concave] = (float(model.ccv.detach().abs().max()), float(model.cvx.detach().abs().max()))
    assert moved[1e-2][0] > 100 * moved[None][0]  # phi_ccv starts at zero
    assert moved[None][1] == pytest.approx(moved[1e-2][1], rel=1e-3)  # phi_cvx keeps lr_spline


def test_ema_is_the_running_average_of_the_iterates_and_is_what_is_kept(tmp_path):
    folder = _folder(tmp_path)
    kw = dict(batch=3, patch=12, channels=(1, 2, 4), validation_images=1, validate_every=0, lr_spline=1e-3)
    thetas = []  # the iterates of the plain run: averaging must not change the trajectory
    for steps in (0, 1, 2):
        model, _ = train_wcrr(folder, steps=steps, **kw)
        thetas.append([p.detach().clone() for p in model.parameters()])
    ck = tmp_path / "ema.pt"
    train_wcrr(folder, steps=2, ema=0.5, checkpoint=ck, **kw)
    names = [n for n, _ in model.named_parameters()]
    mean = dict(zip(names, (0.25 * t0 + 0.25 * t1 + 0.5 * t2 for t0, t1, t2 in zip(*thetas))))
    state = torch.load(ck, weights_only=False)
    for name, got in zip(names, state["average"]):
        assert torch.allclose(got, mean[name], atol=1e-6), name
    assert not torch.allclose(thetas[2][0], thetas[1][0])  # the iterates moved, so the test can fail
    # with validation, the returned model is the projected average and the iterate's own score is logged
    logs = []
    model, _ = train_wcrr(folder, steps=2, ema=0.5, **dict(kw, validate_every=2, validation_crop=16), log=logs.append)
    assert "validation_raw" in next(e for e in logs if "validation_psnr" in e)
    assert torch.allclose(model.cvx.detach(), mean["cvx"], atol=1e-7)  # the average of projected splines is one
    assert torch.allclose(model.log_mu.detach(), mean["log_mu"]) and torch.allclose(model.scaling.detach(),
                                                                                     mean["scaling"])
    assert float(model.weights[0].detach().sum(dim=(1, 2, 3)).abs().max()) < 1e-5
    with pytest.raises(ValueError, match="ema"):
        train_wcrr(folder, steps=1, ema=1.0, **kw)
    plain = tmp_path / "plain.pt"
    train_wcrr(folder, steps=1, checkpoint=plain, **kw)
    with pytest.raises(ValueError, match="without ema"):
        train_wcrr(folder, steps=2, ema=0.5, checkpoint=plain, **kw)


# fast enough for the fast suite: a few steps of a 1 -> 2 -> 4 channel model on 24x24 images
def test_train_wcrr_runs_keeps_the_model_class_resumes_and_round_trips(tmp_path):
    folder = _folder(tmp_path)
    ck = tmp_path / "ck.pt"
    kw = dict(batch=3, patch=12, channels=(1, 2, 4), validation_images=1, validation_crop=16, validate_every=2,
              checkpoint=ck, checkpoint_every=1)
    model, history = train_wcrr(folder, steps=2, **kw)
    assert len(history["train"]) == 2 and ck.is_file()
    assert all(math.isfinite(e["loss"]) for e in history["train"])
    assert history["best"] is not None and len(history["validation"][0][2]) == 3
    for p in (model.cvx, model.ccv):
        slopes = torch.diff(p.detach()) / model.step
        assert float(slopes.min()) >= -1e-5 and float(slopes.max()) <= 1 + 1e-5
    assert float(model.weights[0].detach().sum(dim=(1, 2, 3)).abs().max()) < 1e-5
    model, history = train_wcrr(folder, steps=3, **kw)
    assert len(history["train"]) == 3  # two restored, one new
    reg = to_regularizer(model, norm_shape=(32, 32))
    assert reg.weak_convexity <= 1 + 1e-3  # ||W|| = 1 up to the power iteration, phi' >= -1
    path = save_npz(tmp_path / "w.npz", reg, {"note": "test"})
    back = load_npz(path, dtype="float64")
    x = np.random.default_rng(5).random((20, 20))
    for s in (5 / 255, 25 / 255):
        assert np.allclose(back.at_noise_level(s).grad(x), reg.at_noise_level(s).grad(x), atol=1e-6)


def test_float32_export_keeps_the_weak_convexity_at_rho():
    model = _model(dtype="float32")
    with torch.no_grad():  # where mu phi_cvx is flat at 0.6 and phi_ccv has slope 1, float32 sums of the two
        grid = torch.linspace(-0.5, 0.5, model.ccv.numel(), dtype=torch.float64)  # round slopes by ~1e-6
        model.cvx.copy_(torch.clamp(grid, -0.01, 0.01).float())
        model.ccv.copy_(torch.clamp(grid, -1 / 3, 1 / 3).float())
        model.log_mu.fill_(math.log(60.0))
    reg = to_regularizer(model, norm_shape=(16, 16))
    assert -1 - 1e-12 <= reg.activation.slope_min < -1 + 1e-6  # rho times phi_ccv's slope 1, no rounding above
    assert reg.at_noise_level(10 / 255).weak_convexity <= reg.w_norm**2 * (1 + 1e-12)


@pytest.mark.parametrize("rho", [1.0, 0.0])
def test_init_continues_from_an_export_and_rejects_other_models(tmp_path, rho):
    folder = _folder(tmp_path)
    start = _model(rho=rho)
    with torch.no_grad():  # a learned mu that is not the one train_wcrr would start from, an uneven S
        start.log_mu.fill_(math.log(3.1))
    reg = to_regularizer(start, norm_shape=(64, 64))
    kw = dict(batch=3, patch=12, validation_images=1, validate_every=0, rho=rho)
    model, _ = train_wcrr(folder, steps=0, init=reg, **kw)
    assert math.exp(float(model.log_mu.detach())) == pytest.approx(3.1)  # the file's mu, not train_wcrr's default 20
    back = to_regularizer(model, norm_shape=(64, 64))
    c = np.asarray(reg.activation.coefficients)
    assert np.abs(np.asarray(back.activation.coefficients) - c).max() <= 1e-6 * np.abs(c).max()  # float32 mu
    assert np.allclose(back.noise_scaling.coefficients, reg.noise_scaling.coefficients, rtol=0, atol=1e-6)  # float32
    x = np.random.default_rng(4).random((16, 16))
    for s in (5 / 255, 25 / 255):  # the same regularizer, up to the float32 kernels
        g = reg.at_noise_level(s).grad(x)
        assert np.abs(back.at_noise_level(s).grad(x) - g).max() <= 1e-5 * np.abs(g).max()
    model, history = train_wcrr(folder, steps=1, init=reg, lr_spline=1e-4, **kw)  # one step moves it, in the class
    assert len(history["train"]) == 1
    moved = to_regularizer(model, norm_shape=(64, 64))
    assert not np.allclose(moved.activation.coefficients, reg.activation.coefficients, atol=1e-9)
    assert moved.activation.slope_min >= -rho - 1e-9


def test_init_rejects_a_model_outside_the_class(tmp_path):
    folder = _folder(tmp_path)
    wcrr = to_regularizer(_model(rho=1.0), norm_shape=(64, 64))  # slopes down to -1: not convex
    with pytest.raises(ValueError, match="slope"):
        train_wcrr(folder, steps=0, init=wcrr, rho=0.0, validation_images=1)
    with pytest.raises(TypeError, match="init must be a RidgeRegularizer"):
        train_wcrr(folder, steps=0, init="weights.npz", validation_images=1)
    with pytest.raises(ValueError, match="noise scaling"):  # a fixed-scale model: nothing to train S from
        train_wcrr(folder, steps=0, init=RidgeRegularizer(wcrr.kernels, wcrr.activation), validation_images=1)
    with pytest.raises(ValueError, match="scale 1"):
        train_wcrr(folder, steps=0, init=wcrr.at_noise_level(25 / 255), validation_images=1)
