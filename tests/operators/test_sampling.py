"""Sampling operators: adjoints, known values, agreement with NumPy, composites with Convolution, errors."""
import math

import numpy as np
import pytest

from recon.backend import to_numpy
from recon.operators import (
    Convolution,
    Crop,
    Downsample,
    Mask,
    Pad,
    Subsample,
    Wavelet,
    dottest,
    gaussian_kernel,
)
from tests.helpers import tolerance

SHAPES = [(7, 10), (9, 5), (6, 6), (11,), (5, 6, 4)]


def _mask(shape, seed=0):
    return np.random.default_rng(seed).random(shape) < 0.4


def _random(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_adjoints(shape, xp, dtype, make):
    nd = len(shape)
    mask = make(_mask(shape), xp.bool)
    ops = [
        Mask(mask),
        Subsample(mask),
        Pad(shape, 2),
        Pad(shape, [(1, 3)] * nd),
        Pad(shape, [(2, 3)] * nd, mode="symmetric"),
        Pad(shape, [(min(shape), 0)] * nd, mode="symmetric"),
        Crop(shape, [(1, 0)] * nd),
    ]
    for op in ops:
        assert dottest(op, xp=xp, dtype=dtype) <= tolerance(dtype, xp), op
        assert dottest(op.T, xp=xp, dtype=dtype) <= tolerance(dtype, xp), op


@pytest.mark.parametrize("shape, factor", [((6, 10), 2), ((9, 4), (3, 2)), ((12,), 4), ((4, 6, 2), (2, 3, 1))])
def test_downsample_adjoint(shape, factor, xp, dtype):
    D = Downsample(shape, factor)
    assert dottest(D, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    assert dottest(D.T, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("boundary", ["periodic", "zero"])
def test_composites_with_convolution(boundary, xp, dtype, make):
    """Blur-then-sample forward models (super-resolution, inpainting, cropped sensors)."""
    shape = (12, 9)
    kernel = make(to_numpy(gaussian_kernel(1.0)), xp.float64)
    A = Convolution(kernel, shape, boundary=boundary)
    mask = make(_mask(shape), xp.bool)
    ops = [
        Downsample(shape, (4, 3)) @ A,
        Subsample(mask) @ A,
        Mask(mask) @ A @ Mask(mask),
        Crop(shape, 2) @ A,
        A @ Pad((8, 5), 2),
        Downsample((14, 12), 2) @ Convolution(kernel, (14, 12), boundary=boundary) @ Pad(shape, [(1, 1), (1, 2)]),
    ]
    for op in ops:
        assert dottest(op, xp=xp, dtype=dtype) <= tolerance(dtype, xp), op


def test_composite_with_wavelet_synthesis():
    """Blurred wavelet synthesis x = W* c, the usual sparse-deconvolution model (NumPy only)."""
    W = Wavelet((9, 10), "db2", levels=2)
    A = Downsample((9, 10), (3, 2)) @ Convolution(gaussian_kernel(0.8), (9, 10)) @ W.T
    assert dottest(A) <= 1e-10
    assert dottest(A, dtype=np.float32) <= 1e-4


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------
def test_mask_and_subsample_values(xp, dtype, make):
    shape = (7, 10)
    m, x = _mask(shape), _random(shape)
    mask = make(m, xp.bool)
    assert np.array_equal(to_numpy(Mask(mask)(make(x))), np.where(m, to_numpy(make(x)), 0))
    S = Subsample(mask)
    assert S.shape_out == (int(m.sum()),) and S.count == int(m.sum())
    kept = to_numpy(S(make(x)))
    assert np.array_equal(kept, to_numpy(make(x))[m])  # row-major order
    scattered = to_numpy(S.adjoint(S(make(x))))
    assert np.array_equal(scattered, np.where(m, to_numpy(make(x)), 0))
    y = make(_random(S.shape_out, 2))
    assert np.array_equal(to_numpy(S(S.adjoint(y))), to_numpy(y))  # S S* = I
    assert S(make(x)).dtype == dtype and S.adjoint(y).dtype == dtype


def test_numeric_masks_are_accepted_when_zero_one():
    m = _mask((4, 5))
    x = _random((4, 5))
    assert np.array_equal(Mask(m.astype(float))(x), Mask(m)(x))
    assert Subsample(m.astype(np.int8)).count == m.sum()


def test_mask_norms():
    assert Mask(_mask((5, 5))).norm() == 1.0
    assert Mask(np.zeros((3, 3), dtype=bool)).norm() == 0.0
    assert Subsample(_mask((5, 5))).norm() == 1.0


def test_downsample_values(xp, dtype, make):
    shape, factor = (6, 9), (2, 3)
    D = Downsample(shape, factor)
    assert np.allclose(to_numpy(D(make(np.full(shape, 3.5)))), 3.5)
    x = _random(shape)
    expected = np.array([[x[2 * i : 2 * i + 2, 3 * j : 3 * j + 3].mean() for j in range(3)] for i in range(3)])
    got = to_numpy(D(make(x)))
    assert got.shape == (3, 3) and D(make(x)).dtype == dtype
    assert np.allclose(got, expected, atol=tolerance(dtype, xp, f64=1e-14, f32=1e-6))
    y = _random((3, 3), 2)
    up = to_numpy(D.adjoint(make(y)))
    assert np.allclose(up, np.kron(y, np.ones(factor)) / 6, atol=tolerance(dtype, xp, f64=1e-14, f32=1e-6))


def test_downsample_norm():
    D = Downsample((8, 9), (2, 3))
    assert D.norm() == pytest.approx(1 / math.sqrt(6))
    assert math.sqrt((D.T @ D).norm(iters=50)) == pytest.approx(D.norm(), rel=1e-6)


def test_pad_matches_numpy(xp, dtype, make):
    x = _random((5, 4))
    widths = [(1, 3), (2, 0)]
    for mode, np_mode in [("zero", "constant"), ("symmetric", "symmetric")]:
        got = to_numpy(Pad(x.shape, widths, mode=mode)(make(x)))
        assert np.array_equal(got, np.pad(to_numpy(make(x)), widths, mode=np_mode))


def test_symmetric_pad_adjoint_folds_the_margins():
    """The adjoint of mirror padding is the transpose of the 0/1 matrix that builds it."""
    shape, widths = (4, 3), [(2, 3), (1, 2)]
    P = Pad(shape, widths, mode="symmetric")
    matrix = np.stack([P(e.reshape(shape)).ravel() for e in np.eye(math.prod(shape))], axis=1)
    y = _random(P.shape_out)
    assert np.allclose(P.adjoint(y).ravel(), matrix.T @ y.ravel())


def test_crop_is_the_adjoint_of_zero_padding(xp, dtype, make):
    shape, widths = (9, 8), [(2, 1), (0, 3)]
    C = Crop(shape, widths)
    assert C.shape_out == (6, 5)
    P = Pad(C.shape_out, widths)
    x, y = make(_random(shape)), make(_random(C.shape_out, 2))
    assert np.array_equal(to_numpy(C(x)), to_numpy(P.adjoint(x)))
    assert np.array_equal(to_numpy(C.adjoint(y)), to_numpy(P(y)))
    assert np.array_equal(to_numpy(C(P(y))), to_numpy(y))  # C P = I
    assert C.norm() == 1.0 and P.norm() == 1.0


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: Downsample((7, 10), 2), r"shape \(7, 10\) is not divisible by factor \(2, 2\)"),
        (lambda: Downsample((6, 6), 0), "factor must be >= 1, got"),
        (lambda: Downsample((6, 6), (2, 2, 2)), "factor must be an int or 2 ints"),
        (lambda: Pad((4, 4), -1), "widths must be ints >= 0"),
        (lambda: Pad((4, 4), [(1, 1)] * 3), "widths must be"),
        (lambda: Pad((4, 4), 1, mode="reflect"), "mode must be 'zero' or 'symmetric', got 'reflect'"),
        (lambda: Pad((4, 4), 5, mode="symmetric"), "symmetric widths .* exceed the axis lengths"),
        (lambda: Crop((4, 4), 2), "leave nothing of shape"),
        (lambda: Mask(np.array([0.0, 0.5, 1.0])), "mask must be boolean or hold only 0 and 1"),
        (lambda: Subsample(np.zeros((3, 3), dtype=bool)), "mask must keep at least one pixel"),
        (lambda: Downsample((0, 4), 2), "shape must be"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_input_shape_names_the_argument():
    with pytest.raises(ValueError, match=r"x has shape \(4, 4\), expected \(6, 6\)"):
        Downsample((6, 6), 2)(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"y has shape \(3,\), expected \(2,\)"):
        Subsample(np.array([True, False, True])).adjoint(np.zeros(3))
