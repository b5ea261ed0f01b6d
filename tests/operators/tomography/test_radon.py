"""Radon: exact adjoint, geometry convention against skimage, mass conservation, errors."""
import math

import numpy as np
import pytest

from recon.backend import to_numpy
from recon.operators import dottest
from recon.operators.tomography import Radon, default_detectors
from tests.helpers import tolerance

# (shape, n_angles, keywords): odd, even, non-square, few/many angles, narrow or shifted detectors
CASES = [
    ((7, 10), 5, {}),
    ((9, 5), 3, dict(n_detectors=4)),
    ((16, 16), 12, dict(detector_spacing=0.7, center=3.3)),
    ((11, 13), 7, dict(detector_spacing=1.6)),
    ((1, 6), 2, {}),
    ((10, 9), 6, dict(subbins=2)),  # coarsest fixed point: the guard bins must still hold every position
    ((13, 13), 8, dict(subbins=32, center=9.2)),  # odd square: the middle row is its own mirror
]


def _angles(n, seed=0):
    return np.sort(np.random.default_rng(seed).uniform(0, 2 * np.pi, n))


@pytest.mark.parametrize("shape, n_angles, kwargs", CASES)
def test_adjoint(shape, n_angles, kwargs, xp, dtype):
    A = Radon(shape, _angles(n_angles), **kwargs)
    assert dottest(A, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    assert dottest(A.T, xp=xp, dtype=dtype, seed=3) <= tolerance(dtype, xp)


def test_adjoint_over_several_chunks():
    A = Radon((40, 31), _angles(70))  # 70 angles x 1240 pixels: several chunks on the CPU path
    for _ in range(2):  # the second call reads the stored fixed-point positions
        assert dottest(A, dtype=np.float64) <= 1e-12
    assert A._positions


def test_dtype_and_library_follow_the_input(xp, dtype, make):
    A = Radon((6, 7), _angles(4))
    assert A(make(np.ones((6, 7)))).dtype == dtype
    assert A.adjoint(make(np.ones(A.shape_out))).dtype == dtype


def test_mass_is_conserved_and_default_detector_covers_the_diagonal():
    shape = (17, 24)
    A = Radon(shape, _angles(9), detector_spacing=0.8)
    assert A.n_detectors == default_detectors(shape, 0.8) == math.ceil(math.hypot(24, 17) / 0.8) + 1
    u = np.random.default_rng(1).random(shape)
    # Δs Σ_k (Au)_k = Σ u for every angle: the sinogram holds line integrals
    assert np.allclose(0.8 * A(u).sum(axis=1), u.sum())


def test_axis_conventions():
    """θ = 0 sums columns (s = x); θ = π/2 sums rows with s = y pointing up (row 0 at the top)."""
    u = np.random.default_rng(2).random((5, 7))
    A = Radon(u.shape, [0.0, np.pi / 2], n_detectors=9)
    p = A(u)
    assert np.allclose(p[0, 1:8], u.sum(axis=0)) and np.allclose(p[0, [0, 8]], 0)
    assert np.allclose(p[1, 2:7], u.sum(axis=1)[::-1]) and np.allclose(p[1, [0, 1, 7, 8]], 0)


def test_degrees_option_and_single_pixel_interpolation():
    A = Radon((1, 1), [45.0], degrees=True, n_detectors=4, center=1.25)
    p = A(np.ones((1, 1)))  # the pixel projects on t = 1.25: weights 0.75, 0.25
    assert np.allclose(p, [[0.0, 0.75, 0.25, 0.0]])
    assert np.allclose(A.angles, [np.pi / 4])


def test_pixels_off_the_detector_are_dropped():
    A = Radon((9, 9), [0.0], n_detectors=3)  # sees only the three middle columns
    u = np.zeros((9, 9))
    u[:, 0] = 1.0
    assert np.allclose(A(u), 0.0)
    u[:, 4] = 1.0
    assert np.allclose(A(u), [[0.0, 9.0, 0.0]])


@pytest.mark.parametrize("n", [63, 64])
def test_agrees_with_skimage_radon(n):
    """skimage: degrees, sinogram (detectors, angles), rotation about pixel n // 2 (the centre for odd n)."""
    from skimage.transform import radon

    from recon import data

    u = to_numpy(data.shepp_logan(n))
    deg = np.linspace(0.0, 180.0, 45, endpoint=False)
    theirs = radon(u, deg, circle=False).T
    ours = Radon(u.shape, np.deg2rad(deg), n_detectors=theirs.shape[1])(u)
    corr = np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]
    assert corr >= 0.99
    assert np.allclose(ours.sum(axis=1), u.sum()) and np.allclose(theirs.sum(axis=1), u.sum(), rtol=1e-2)


def test_norm_is_an_upper_bound_close_to_the_largest_singular_value():
    A = Radon((12, 9), _angles(8), detector_spacing=0.9)
    dense = np.stack([A(e.reshape(12, 9)).ravel() for e in np.eye(108)], axis=1)
    sv = np.linalg.norm(dense, 2)
    assert sv <= A.norm() <= sv * (1 + 2e-4)
    assert np.allclose(dense.T, np.stack([A.adjoint(e.reshape(A.shape_out)).ravel()
                                          for e in np.eye(dense.shape[0])], axis=1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(shape=(0, 5), angles=[0.0]), r"shape must be a pair of positive ints, got \(0, 5\)"),
        (dict(shape=(4, 4, 4), angles=[0.0]), "shape must be a pair"),
        (dict(shape=(4, 4), angles=[]), "angles must be a non-empty 1-D sequence"),
        (dict(shape=(4, 4), angles=[[0.0, 1.0]]), "angles must be a non-empty 1-D sequence"),
        (dict(shape=(4, 4), angles=[0.0, np.nan]), "angles contains NaN"),
        (dict(shape=(4, 4), angles=[0.0], n_detectors=-3), "n_detectors must be a positive int, got -3"),
        (dict(shape=(4, 4), angles=[0.0], n_detectors=2.5), "n_detectors must be a positive int, got 2.5"),
        (dict(shape=(4, 4), angles=[0.0], detector_spacing=0.0), "detector_spacing must be a finite number > 0"),
        (dict(shape=(4, 4), angles=[0.0], center=np.inf), "center must be a finite number"),
        (dict(shape=(4, 4), angles=[0.0], subbins=1), "subbins must be an int >= 2, got 1"),
        (dict(shape=(4, 4), angles=[0.0], subbins=8.0), "subbins must be an int >= 2, got 8.0"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Radon(**kwargs)


def test_bad_inputs():
    A = Radon((4, 5), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"x has shape \(5, 4\), expected \(4, 5\)"):
        A(np.ones((5, 4)))
    with pytest.raises(TypeError, match="real floating array, got dtype int64"):
        A(np.ones((4, 5), dtype=np.int64))
