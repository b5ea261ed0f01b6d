"""Ptychography data terms: Wirtinger gradients against finite differences, prox optimality, errors."""
import numpy as np
import pytest

from recon.backend import asarray, to_numpy
from recon.functionals.ptycho_data import AmplitudeLoss, PoissonLoss
from recon.operators.ptychography import ExitWaves, FarField, ProbeExitWaves

RNG = np.random.default_rng(1)
SHAPE = (4, 6, 5)
PROBE = RNG.standard_normal((6, 5)) + 1j * RNG.standard_normal((6, 5))
POSITIONS = np.array([[0.2, 0.0], [3.4, 2.1], [9.0, 7.7], [5.0, 6.0]])
OBJECT_SHAPE = (15, 13)


def _complex(shape, seed):
    r = np.random.default_rng(seed)
    return r.standard_normal(shape) + 1j * r.standard_normal(shape)


def _intensities(seed=2):
    return np.abs(_complex(SHAPE, seed)) ** 2


def _fd_check(f, grad, x, seed):
    """Central differences of f along a random complex direction d against Re<grad, d>."""
    d = _complex(x.shape, seed)
    h = 1e-6
    fd = (f(x + h * d) - f(x - h * d)) / (2 * h)
    an = float(np.sum(np.real(np.conj(grad) * d)))
    assert abs(fd - an) <= 1e-6 * max(abs(an), 1e-3 * np.linalg.norm(grad) * np.linalg.norm(d))


LOSSES = [AmplitudeLoss, PoissonLoss]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", range(3))
def test_gradient_in_detector_waves(loss, seed):
    f = loss(_intensities())
    z = _complex(SHAPE, 10 + seed)
    _fd_check(f, f.grad(z), z, 20 + seed)


@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_in_object_probe_and_positions(loss):
    """Chain rule through FarField and the exit-wave operators (linear in O, in P; nonlinear in r)."""
    f = loss(_intensities())
    F = FarField(SHAPE)
    obj = _complex(OBJECT_SHAPE, 3)
    A = ExitWaves(PROBE, POSITIONS, OBJECT_SHAPE)
    g_psi = F.adjoint(f.grad(F(A(obj))))
    _fd_check(lambda o: f(F(A(o))), A.adjoint(g_psi), obj, 4)
    B = ProbeExitWaves(obj, POSITIONS, PROBE.shape)
    _fd_check(lambda p: f(F(B(p))), B.adjoint(g_psi), PROBE, 5)
    grad_r = A.position_gradient(obj, g_psi)
    h = 1e-6
    for j, a in [(0, 0), (1, 1), (2, 0), (3, 1)]:
        step = np.zeros_like(POSITIONS)
        step[j, a] = h
        def value(pos):
            return f(F(ExitWaves(PROBE, pos, OBJECT_SHAPE, subpixel=True)(obj)))
        fd = (value(POSITIONS + step) - value(POSITIONS - step)) / (2 * h)
        assert abs(fd - grad_r[j, a]) <= 1e-6 * max(abs(fd), 1e-3 * np.abs(grad_r).max())


@pytest.mark.parametrize("loss", LOSSES)
def test_zero_at_the_data_and_positive_elsewhere(loss):
    z = _complex(SHAPE, 6)
    f = loss(np.abs(z) ** 2, **({"eps": 0.0} if loss is PoissonLoss else {}))
    assert abs(f(z)) <= 1e-10 * np.sum(np.abs(z) ** 2)
    assert np.linalg.norm(f.grad(z)) <= 1e-10 * np.linalg.norm(z)
    assert abs(f(z * np.exp(0.7j)) - f(z)) <= 1e-9  # phase blind
    assert f(1.1 * z) > 1e-3


def test_amplitude_prox_is_optimal_and_tends_to_the_projection():
    f = AmplitudeLoss(_intensities())
    x = _complex(SHAPE, 7)
    for tau in (0.1, 1.0, 10.0):
        p = f.prox(x, tau)
        # optimality of argmin tau f(z) + 1/2 |z - x|^2 (f is smooth at p != 0)
        assert np.allclose(tau * f.grad(p) + p - x, 0, atol=1e-12)
    assert np.allclose(f.prox(x, 1e9), f.project(x), atol=1e-7)
    assert np.allclose(np.abs(f.project(x)), np.sqrt(_intensities()))


def test_single_precision_stays_single(xp):
    I = asarray(_intensities(), xp=xp, dtype=xp.float32)
    z = asarray(_complex(SHAPE, 8), xp=xp, dtype=xp.complex64)
    for f in (AmplitudeLoss(I), PoissonLoss(I)):
        assert f.grad(z).dtype == xp.complex64
        assert np.isfinite(f(z))
    assert AmplitudeLoss(I).prox(z, 0.5).dtype == xp.complex64
    ref = AmplitudeLoss(_intensities()).grad(_complex(SHAPE, 8))
    assert np.allclose(to_numpy(AmplitudeLoss(I).grad(z)), ref, atol=1e-5)


def test_gradient_at_zero_is_finite():
    I = _intensities()
    z = _complex(SHAPE, 9)
    z[0, 0, 0] = 0
    for f in (AmplitudeLoss(I), PoissonLoss(I)):
        assert np.all(np.isfinite(f.grad(z)))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "intensities, error, match",
    [
        (-_intensities(), ValueError, "intensities must be >= 0"),
        (np.where(_intensities() > 1, np.nan, _intensities()), ValueError, "intensities contains NaN"),
        (_complex(SHAPE, 1), TypeError, "intensities must be a real floating array"),
        ([1.0, 2.0], TypeError, "intensities must be an array"),
    ],
)
def test_bad_intensities(loss, intensities, error, match):
    with pytest.raises(error, match=match):
        loss(intensities)


@pytest.mark.parametrize("loss", LOSSES)
def test_shape_mismatch_names_z(loss):
    f = loss(_intensities())
    with pytest.raises(ValueError, match=r"z has shape \(4, 6, 4\), expected \(4, 6, 5\)"):
        f.grad(np.ones((4, 6, 4), dtype=complex))


def test_bad_eps_and_tau():
    with pytest.raises(ValueError, match="eps must be"):
        PoissonLoss(_intensities(), eps=-1.0)
    with pytest.raises(ValueError, match="tau must be a finite number > 0"):
        AmplitudeLoss(_intensities()).prox(_complex(SHAPE, 1), 0.0)
