"""Ptychography operators: complex dot tests, agreement with direct formulas, shifts, errors."""
import numpy as np
import pytest

from recon.backend import asarray, to_numpy
from recon.operators import dottest
from recon.operators.ptychography import ExitWaves, FarField, NearField, ProbeExitWaves

RNG = np.random.default_rng(0)
PROBE = RNG.standard_normal((6, 5)) + 1j * RNG.standard_normal((6, 5))
OBJECT_SHAPE = (17, 15)
INTEGER = np.array([[0, 0], [3, 2], [11, 10], [5, 7], [2, 9]], dtype=float)
OUTSIDE = INTEGER.copy()
OUTSIDE[2] = [12, 0]
SUBPIXEL = INTEGER + RNG.uniform(-0.5, 0.5, INTEGER.shape) * (INTEGER > 0)


@pytest.fixture(params=["complex64", "complex128"])
def cdtype(request, xp):
    return getattr(xp, request.param)


def _tol(xp, cdtype):
    return 1e-4 if cdtype == xp.complex64 else 1e-10


def _random(shape, seed):
    r = np.random.default_rng(seed)
    return r.standard_normal(shape) + 1j * r.standard_normal(shape)


@pytest.mark.parametrize("positions", [INTEGER, SUBPIXEL], ids=["integer", "subpixel"])
def test_exit_waves_adjoint(positions, xp, cdtype):
    A = ExitWaves(asarray(PROBE, xp=xp), positions, OBJECT_SHAPE)
    assert A.shape_out == (5, 6, 5)
    assert dottest(A, xp=xp, dtype=cdtype) <= _tol(xp, cdtype)
    assert dottest(A.T, xp=xp, dtype=cdtype) <= _tol(xp, cdtype)


@pytest.mark.parametrize("positions", [INTEGER, SUBPIXEL], ids=["integer", "subpixel"])
def test_probe_exit_waves_adjoint(positions, xp, cdtype):
    B = ProbeExitWaves(asarray(_random(OBJECT_SHAPE, 1), xp=xp), positions, PROBE.shape)
    assert dottest(B, xp=xp, dtype=cdtype) <= _tol(xp, cdtype)


@pytest.mark.parametrize("shape", [(7, 4), (3, 6, 5), (2, 8, 8)])
def test_propagators_adjoint_and_unitary(shape, xp, cdtype):
    for op in (FarField(shape), NearField(shape, 2e-3, 5e-7, 1e-5)):
        assert dottest(op, xp=xp, dtype=cdtype) <= _tol(xp, cdtype)
        x = asarray(_random(shape, 2), xp=xp, dtype=cdtype)
        back = op.adjoint(op(x))
        assert back.dtype == cdtype
        assert np.allclose(to_numpy(back), to_numpy(x), atol=10 * _tol(xp, cdtype))


def test_exit_waves_are_probe_times_patches_and_keep_single_precision(xp, cdtype):
    obj = _random(OBJECT_SHAPE, 3)
    A = ExitWaves(asarray(PROBE, xp=xp), INTEGER, OBJECT_SHAPE)
    psi = A(asarray(obj, xp=xp, dtype=cdtype))
    assert psi.dtype == cdtype
    assert A.adjoint(psi).dtype == cdtype
    for j, (r, c) in enumerate(INTEGER.astype(int)):
        expected = PROBE * obj[r:r + 6, c:c + 5]
        assert np.allclose(to_numpy(psi)[j], expected, atol=10 * _tol(xp, cdtype))


def test_integer_norm_is_the_illumination_maximum():
    A = ExitWaves(PROBE, INTEGER, OBJECT_SHAPE)
    illum = np.zeros(OBJECT_SHAPE)
    for r, c in INTEGER.astype(int):
        illum[r:r + 6, c:c + 5] += np.abs(PROBE) ** 2
    assert np.allclose(A.illumination(), illum)
    assert A.norm() == pytest.approx(np.sqrt(illum.max()))
    x = _random(OBJECT_SHAPE, 4)
    assert np.allclose(A.adjoint(A(x)), illum * x)  # A*A is diagonal for integer positions


def test_subpixel_shift_of_a_band_limited_object_is_exact():
    """A plane wave sampled on the grid, shifted by delta, equals the plane wave at x + delta."""
    k = np.array([2 / 6, -1 / 5])  # periodic on the 6x5 patch
    def wave(y, x):
        return np.exp(2j * np.pi * (k[0] * y + k[1] * x))
    yy, xx = np.indices(OBJECT_SHAPE)
    A = ExitWaves(np.ones((6, 5)), SUBPIXEL, OBJECT_SHAPE)
    psi = A(wave(yy, xx))
    py, px = np.indices((6, 5))
    for j, (r, c) in enumerate(SUBPIXEL):
        assert np.allclose(psi[j], wave(py + r, px + c), atol=1e-12)


def test_far_field_is_ptylab_centred_fft():
    x = _random((3, 8, 7), 5)
    expected = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    assert np.allclose(FarField(x.shape)(x), expected)
    # a centred point source gives a flat far field
    delta = np.zeros((8, 7), dtype=complex)
    delta[4, 3] = 1
    assert np.allclose(FarField((8, 7))(delta), 1 / np.sqrt(56))


def test_near_field_composes_distances_and_matches_fresnel_chirp():
    shape, lam, dx = (16, 12), 5e-7, 2e-6
    x = _random(shape, 6)
    both = NearField(shape, 3e-4, lam, dx)(NearField(shape, 2e-4, lam, dx)(x))
    assert np.allclose(both, NearField(shape, 5e-4, lam, dx)(x))
    assert np.allclose(NearField(shape, 0.0, lam, dx)(x), x)
    assert np.allclose(NearField(shape, -5e-4, lam, dx)(NearField(shape, 5e-4, lam, dx)(x)), x)


def test_position_gradient_matches_finite_differences():
    obj = _random(OBJECT_SHAPE, 7)
    g = _random((5, 6, 5), 8)  # a fixed linear functional: L(r) = Re<g, psi(r)>
    A = ExitWaves(PROBE, SUBPIXEL, OBJECT_SHAPE, subpixel=True)
    grad = A.position_gradient(obj, g)
    h = 1e-6
    for a in range(2):
        step = np.zeros_like(SUBPIXEL)
        step[:, a] = h
        def loss(pos):
            psi = ExitWaves(PROBE, pos, OBJECT_SHAPE, subpixel=True)(obj)
            return np.sum(np.real(np.conj(g) * psi), axis=(1, 2))
        fd = (loss(SUBPIXEL + step) - loss(SUBPIXEL - step)) / (2 * h)
        assert np.allclose(grad[:, a], fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(probe=np.ones(5), positions=INTEGER, object_shape=OBJECT_SHAPE), "probe must be a 2-D"),
        (dict(probe=PROBE, positions=INTEGER[:, 0], object_shape=OBJECT_SHAPE), r"positions must have shape \(J, 2\)"),
        (dict(probe=PROBE, positions=OUTSIDE, object_shape=OBJECT_SHAPE), r"positions\[2\] .* outside"),
        (dict(probe=PROBE, positions=-INTEGER - 1, object_shape=OBJECT_SHAPE), r"positions\[0\] .* outside"),
        (dict(probe=PROBE, positions=INTEGER * np.nan, object_shape=OBJECT_SHAPE), "positions contains NaN"),
        (dict(probe=PROBE * np.nan, positions=INTEGER, object_shape=OBJECT_SHAPE), "probe contains NaN"),
        (dict(probe=PROBE, positions=INTEGER, object_shape=(17,)), "object_shape must be two"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ExitWaves(**kwargs)


def test_wrong_input_shape_and_bad_near_field_parameters():
    A = ExitWaves(PROBE, INTEGER, OBJECT_SHAPE)
    with pytest.raises(ValueError, match=r"x has shape \(16, 15\), expected \(17, 15\)"):
        A(np.ones((16, 15)))
    with pytest.raises(ValueError, match="wavelength must be a finite number > 0"):
        NearField((4, 4), 1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="shape must have at least two"):
        FarField((4,))
