"""RidgeRegularizer (CRR-NN / WCRR) and its LinearSpline: exact integral, gradient, convexity,
Lipschitz bound, proximal denoiser optimality, backends and dtypes, errors."""
import itertools

import numpy as np
import pytest
from scipy.integrate import quad

from recon.backend import to_numpy
from recon.functionals import LinearSpline, RidgeRegularizer
from tests.helpers import tolerance
from tests.helpers.ridge import KNOTS, _monotone_spline, make_reg

KINDS = ["crr", "wcrr", "crr-channels"]


def _image(shape=(12, 10), seed=1, amp=0.1):
    return amp * np.random.default_rng(seed).standard_normal(shape)


# -- LinearSpline --------------------------------------------------------------------------------
def test_spline_interpolates_and_extends_linearly():
    c = np.array([0.0, 0.0, 1.0, 3.0, 2.0])
    s = LinearSpline(c, -1, 1)
    assert np.allclose(s(np.linspace(-1, 1, 5)), c)
    assert np.allclose(s(np.array([-3.0, 0.25, 2.0])), [0.0, 2.0, 0.0])  # end slopes 0 and -2
    assert np.allclose(s.derivative(np.array([-2.0, 0.1, 0.9, 5.0])), [0, 4, -2, -2])
    assert (s.slope_min, s.slope_max) == (-2.0, 4.0)


def test_spline_integral_is_exact():
    s = LinearSpline(_monotone_spline(3) + 0.01 * np.arange(21), -0.1, 0.1)
    x = np.array([-0.3, -0.1, -0.0371, 0.0, 0.004, 0.0999, 0.25])
    expected = [quad(lambda t: s(np.array([t]))[0], 0, xi, points=KNOTS, limit=200)[0] for xi in x]
    assert np.allclose(s.integral(x), expected, rtol=1e-10, atol=1e-14)
    assert s.integral(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_spline_errors():
    with pytest.raises(ValueError, match="coefficients"):
        LinearSpline([1.0], 0, 1)
    with pytest.raises(ValueError, match="x_min"):
        LinearSpline([1.0, 2.0], 1, 1)


# -- RidgeRegularizer ----------------------------------------------------------------------------
def test_value_is_sum_of_scaled_potentials():
    reg = make_reg("wcrr")
    x = _image()
    z = reg.W(x.shape)(x)
    s = reg.scale[:, None, None]
    brute = sum(quad(lambda t, c=c: reg.activation(np.array([s.ravel()[c] * t]))[0] / s.ravel()[c], 0, zi,
                     points=None, limit=200)[0] for c in range(z.shape[0]) for zi in z[c].ravel()[:5])
    partial = np.sum((reg.activation.integral(s * z) / s**2)[:, 0, :5])
    assert np.isclose(partial, brute, rtol=1e-8)
    assert np.isclose(reg(x), np.sum(reg.activation.integral(s * z) / s**2))


@pytest.mark.parametrize("kind", KINDS)
def test_grad_matches_finite_differences(kind):
    reg = make_reg(kind)
    x, d = _image(), _image(seed=2)
    h = 1e-6
    fd = (reg(x + h * d) - reg(x - h * d)) / (2 * h)
    assert np.isclose(fd, np.sum(reg.grad(x) * d), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_convexity_on_random_pairs(kind):
    """CRR: R midpoint-convex.  WCRR: R + rho/2 ||.||^2 midpoint-convex (rho = weak_convexity)."""
    reg = make_reg(kind)
    rho = reg.weak_convexity
    assert (rho == 0) == (kind != "wcrr")

    def F(v):
        return reg(v) + 0.5 * rho * np.sum(v * v)

    for seed in range(20):
        a, b = _image(seed=10 + seed, amp=0.2), _image(seed=40 + seed, amp=0.2)
        assert F(0.5 * (a + b)) <= 0.5 * (F(a) + F(b)) + 1e-12 * (abs(F(a)) + abs(F(b)))


def test_wcrr_is_not_convex_without_the_quadratic():
    """The WCRR check above can fail: R alone violates midpoint convexity somewhere."""
    reg = make_reg("wcrr", mu=0.3)  # a small convex part makes the concave part win
    gaps = []
    for seed in range(20):
        a, b = _image(seed=10 + seed, amp=0.2), _image(seed=40 + seed, amp=0.2)
        gaps.append(0.5 * (reg(a) + reg(b)) - reg(0.5 * (a + b)))
    assert min(gaps) < 0


@pytest.mark.parametrize("kind", KINDS)
def test_lipschitz_and_weak_convexity_bounds_on_random_pairs(kind):
    reg = make_reg(kind)
    L, rho = reg.lipschitz, reg.weak_convexity
    for seed in range(20):
        a, b = _image((16, 16), seed=10 + seed, amp=0.2), _image((16, 16), seed=40 + seed, amp=0.2)
        ga, gb = reg.grad(a), reg.grad(b)
        dist = np.linalg.norm(a - b)
        assert np.linalg.norm(ga - gb) <= L * dist * (1 + 1e-9)
        assert np.sum((ga - gb) * (a - b)) >= -rho * dist**2 * (1 + 1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_prox_is_optimal(kind):
    """Gradient of the prox objective vanishes at the output (tau rho <= 1: a unique minimiser)."""
    reg = make_reg(kind)
    y = _image(amp=0.2)
    tau = 1.0
    z, iters = reg.prox_with_info(y, tau, tol=1e-10, iters=5000)
    residual = (z - y) + tau * reg.grad(z)
    assert np.linalg.norm(residual) <= 1e-7 * np.linalg.norm(y)
    assert iters < 5000
    # it moved: the regularizer acts
    assert np.linalg.norm(z - y) > 1e-3 * np.linalg.norm(y)


def test_t_step_reaches_the_prox_and_decreases_the_objective():
    reg = make_reg("crr")
    y, tau = _image(amp=0.2), 2.0

    def obj(v):
        return 0.5 * np.sum((v - y) ** 2) + tau * reg(v)

    assert np.array_equal(reg.t_step(y, tau, 0), y)
    values = [obj(reg.t_step(y, tau, t)) for t in (0, 1, 5, 20)]
    assert all(a >= b for a, b in itertools.pairwise(values))
    far = reg.t_step(y, tau, 3000)
    assert np.allclose(far, reg.prox(y, tau, tol=1e-12, iters=5000), atol=1e-8)


@pytest.mark.parametrize("kind", ["crr", "wcrr"])
def test_backends_and_dtypes_agree_with_numpy(kind, xp, dtype, make):
    ref = make_reg(kind)
    reg = make_reg(kind, xp=xp)
    y = _image(amp=0.2)
    tol = tolerance(dtype, xp, f64=1e-10, f32=1e-4)
    yx = make(y)
    g = reg.grad(yx)
    assert g.dtype == dtype
    assert np.allclose(to_numpy(g), ref.grad(y), atol=tol * np.abs(ref.grad(y)).max())
    assert np.isclose(reg(yx), ref(y), rtol=tol, atol=tol)
    p = reg.prox(yx, 1.0, iters=30)
    assert p.dtype == dtype
    assert np.allclose(to_numpy(p), ref.prox(y, 1.0, iters=30), atol=10 * tol * np.abs(y).max())


def test_at_noise_level_uses_the_scaling():
    base = make_reg("wcrr")
    reg = RidgeRegularizer(base.kernels, base.activation, noise_scaling=lambda s: np.full(12, 1.0 + s),
                           w_norm=base.w_norm)
    assert np.allclose(reg.at_noise_level(0.5).scale, 1.5)
    with pytest.raises(ValueError, match="sigma"):
        reg.at_noise_level(-1)
    with pytest.raises(ValueError, match="noise_scaling"):
        base.at_noise_level(0.1)


def test_errors():
    reg = make_reg("crr")
    with pytest.raises(TypeError, match="activation"):
        RidgeRegularizer(reg.kernels, np.zeros(3))
    with pytest.raises(ValueError, match="scale"):
        RidgeRegularizer(reg.kernels, reg.activation, scale=np.ones(3))
    with pytest.raises(ValueError, match="scale"):
        RidgeRegularizer(reg.kernels, reg.activation, scale=-np.ones(12))
    with pytest.raises(ValueError, match="w_norm"):
        RidgeRegularizer(reg.kernels, reg.activation, w_norm=0)
    with pytest.raises(ValueError, match="2-D image"):
        reg.grad(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="tau"):
        reg.prox(np.ones((5, 5)), -1.0)
    with pytest.raises(ValueError, match="x contains NaN"):
        reg.prox(np.full((5, 5), np.nan), 1.0)


def test_spline_scaled_equals_scaled_call_everywhere():
    # knots, between knots, beyond both ends (linear extension), negative values: scaled() must
    # agree with phi(s z)/s, so the faster evaluation changes no gradient
    s = LinearSpline(np.array([0.0, 1.0, -1.0, 2.0, 2.5]), -1, 1)
    z = np.concatenate([np.linspace(-3, 3, 601), [-1.0, -0.5, 0.0, 0.5, 1.0]])[None, :].repeat(3, 0)
    scale = np.array([0.5, 1.0, 3.0])[:, None]
    assert np.allclose(s.scaled(z, scale), s(scale * z) / scale, rtol=1e-13, atol=1e-13)
    # segment index: clip-then-truncate must equal floor-then-clip, including just below knots
    x = np.array([-1.0000001, -0.9999999, -0.5000001, 0.4999999, 0.9999999, 1.0000001, -7.3, 8.1])
    tau = (x + 1) / s.step
    assert np.array_equal(s._locate(x)[2], np.clip(np.floor(tau), 0, 3).astype(np.int64))


# -- NumPy fast path (planes, fused sandwich, compiled activation) against the standard-only path -----
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (17, 12)])
def test_grad_fast_path_equals_standard_path(kind, dtype, shape, monkeypatch):
    from recon._compiled import disabled
    from recon.operators import multiconv as multiconv_module

    reg = make_reg(kind, seed=3)
    x = _image(shape, seed=5, amp=0.2).astype(dtype)
    fast = [reg.grad(x) for _ in range(2)]  # the second call reuses the planes
    with monkeypatch.context() as m, disabled():
        no_spline_kernel = reg.grad(x)
        m.setattr(multiconv_module, "planes_usable", lambda *a: False)
        standard = reg.grad(x)
        unfused = reg.W(shape).adjoint(reg.potential_derivative(reg.W(shape)(x)))
    tol = (1e-5 if dtype == np.float32 else 1e-13) * np.max(np.abs(standard))
    for g in fast + [no_spline_kernel, unfused]:
        assert g.dtype == dtype and g.shape == shape
        assert np.max(np.abs(g - standard)) <= tol
