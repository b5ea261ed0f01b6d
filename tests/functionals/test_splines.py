"""LinearSpline.scaled: the compiled one-pass kernel against the array-API path (shapes, dtypes, in place,
values beyond the knots, NaN and infinity), and when the kernel is not used."""
from contextlib import nullcontext

import numpy as np
import pytest

from recon._compiled import disabled, enabled
from recon.functionals import LinearSpline, _spline_numba

needs_numba = pytest.mark.skipif(not enabled(), reason="numba not installed or RECON_NUMBA=0")


def _spline(seed=0, knots=21):
    # slopes of both signs and non-flat end segments: the extension beyond the knots matters
    return LinearSpline(np.random.default_rng(seed).standard_normal(knots), -0.1, 0.1)


def _array_api(spline, z, scale, monkeypatch):
    with disabled():
        assert not _spline_numba.usable(z, scale)
        return spline.scaled(z, scale)


@needs_numba
@pytest.mark.parametrize("shape", [(1,), (3,), (5, 1), (4, 257), (2, 3, 300), (60, 7, 13)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_equals_array_api_path(shape, dtype, monkeypatch):
    s = _spline()
    rng = np.random.default_rng(1)
    z = (0.3 * rng.standard_normal(shape)).astype(dtype)  # about a third beyond [-0.1, 0.1] after scaling
    scale = rng.uniform(0.5, 2, (shape[0],) + (1,) * (len(shape) - 1)).astype(dtype)
    assert _spline_numba.usable(z, scale)
    want = _array_api(s, z, scale, monkeypatch)
    got = s.scaled(z, scale)
    assert got.dtype == dtype and got.shape == z.shape
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert np.max(np.abs(got - want)) <= tol * np.max(np.abs(want))
    inplace = z.copy()
    assert s.scaled(inplace, scale, out=inplace) is inplace
    assert np.array_equal(inplace, got)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_propagates_nan_and_infinity(dtype, monkeypatch):
    """NaN gives NaN (the array-API path raises IndexError there: NaN has no segment); infinities as that path."""
    s = _spline(2)
    z = np.array([[np.nan, np.inf, -np.inf, 0.01]], dtype=dtype)
    scale = np.ones((1, 1), dtype)
    got = s.scaled(z, scale)
    assert np.isnan(got[0, 0])
    want = _array_api(s, z[:, 1:].copy(), scale, monkeypatch)
    assert np.array_equal(np.isinf(got[0, 1:]), np.isinf(want[0]))
    assert np.array_equal(np.isnan(got[0, 1:]), np.isnan(want[0]))
    assert np.array_equal(np.sign(got[0, 1:3]), np.sign(want[0, :2]))
    assert np.isclose(got[0, 3], want[0, 2])


def test_other_scales_and_layouts_take_the_array_api_path():
    s = _spline(3)
    rng = np.random.default_rng(4)
    z = 0.1 * rng.standard_normal((3, 4, 5))
    full = rng.uniform(0.5, 2, (3, 4, 5))  # not one value per channel
    fortran = np.asfortranarray(z)
    assert not _spline_numba.usable(z, full)
    assert not _spline_numba.usable(fortran, np.ones((3, 1, 1)))
    assert not _spline_numba.usable(z, np.ones((3, 1, 1), np.float32))  # mixed dtypes
    ref = np.array([s(np.array([v * f]))[0] / f for v, f in zip(z.ravel(), full.ravel())]).reshape(z.shape)
    assert np.allclose(s.scaled(z, full), ref, atol=1e-12)
    out = np.empty_like(z)
    assert s.scaled(fortran, np.full((3, 1, 1), 2.0), out=out) is out
    assert np.allclose(out, s(2 * z) / 2, atol=1e-12)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_channel_splines_are_their_rows(compiled, dtype, monkeypatch):
    # a (C, K) spline applies row c to channel c: every method equals the 1-D spline of that row
    if compiled and not enabled():
        pytest.skip("numba not installed or RECON_NUMBA=0")
    rng = np.random.default_rng(4)
    rows = rng.standard_normal((3, 11))
    multi = LinearSpline(rows, -0.2, 0.3)
    singles = [LinearSpline(r, -0.2, 0.3) for r in rows]
    z = (0.5 * rng.standard_normal((3, 6, 5))).astype(dtype)  # beyond the knots too
    scale = rng.uniform(0.5, 2, (3, 1, 1)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    with nullcontext() if compiled else disabled():
        got = multi.scaled(z, scale)
    assert got.dtype == dtype and got.shape == z.shape
    for c, s in enumerate(singles):
        want = s.scaled(z[c:c + 1], scale[c:c + 1])[0]
        assert np.max(np.abs(got[c] - want)) <= tol * (1 + np.max(np.abs(want)))
        for name in ("__call__", "derivative", "integral"):
            np.testing.assert_allclose(getattr(multi, name)(z)[c], getattr(s, name)(z[c]), rtol=tol, atol=tol)
    np.testing.assert_allclose(multi.integral(np.zeros((3, 1))), 0.0, atol=1e-15)  # Φ_c(0) = 0 for every c
    assert multi.slope_max == max(s.slope_max for s in singles)
    assert multi.slope_min == min(s.slope_min for s in singles)
    with pytest.raises(ValueError, match="3 channels"):
        multi.scaled(z[:2], scale[:2])
    with pytest.raises(ValueError, match="3 channels"):
        multi(np.zeros(3 * 4).reshape(4, 3))
    with pytest.raises(ValueError, match="coefficients must be"):
        LinearSpline(np.zeros((2, 3, 4)), 0, 1)
