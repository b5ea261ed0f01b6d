"""Wavelet: orthogonality (W*W = I, Parseval), dot tests, agreement with pywavelets, NumPy-only errors."""
import numpy as np
import pytest
import pywt

from recon.backend import is_numpy
from recon.operators import Wavelet, dottest
from tests.helpers import tolerance

SHAPES = [(7, 10), (9, 5), (6, 6), (13,), (5, 6, 7), (32, 24)]
WAVELETS = ["haar", "db4", "sym3"]


@pytest.mark.parametrize("wavelet", WAVELETS)
@pytest.mark.parametrize("shape", SHAPES)
def test_adjoint(shape, wavelet, xp, dtype):
    W = Wavelet(shape, wavelet, levels=2)
    if not is_numpy(xp):
        # pywavelets is host-only: other libraries get a clear error instead of a silent copy
        library = xp.__name__.split(".")[-1]
        with pytest.raises(TypeError, match=f"NumPy arrays only .* got a {library} array"):
            dottest(W, xp=xp, dtype=dtype)
        return
    assert dottest(W, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    assert dottest(W.T, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("wavelet", WAVELETS)
@pytest.mark.parametrize("shape", SHAPES)
def test_left_inverse_and_parseval(shape, wavelet):
    W = Wavelet(shape, wavelet)
    x = np.random.default_rng(0).standard_normal(shape)
    c = W(x)
    assert c.shape == W.padded_shape
    assert np.allclose(W.T(c), x, atol=1e-12)
    # pywt tabulates some filters (sym3) to ~5e-12, so Parseval holds to that level only
    assert np.linalg.norm(c) == pytest.approx(np.linalg.norm(x), rel=1e-10)
    assert W.norm() == 1.0


@pytest.mark.parametrize("shape, levels", [((8, 16), 3), ((12,), 2), ((4, 8, 4), 2)])
def test_square_case_is_orthogonal(shape, levels):
    W = Wavelet(shape, "db2", levels=levels)
    assert W.padded_shape == shape
    c = np.random.default_rng(1).standard_normal(shape)
    assert np.allclose(W(W.T(c)), c, atol=1e-12)


def test_padded_case_w_wt_is_a_projection():
    W = Wavelet((7, 10), "db4", levels=2)
    assert W.padded_shape == (8, 12)
    c = np.random.default_rng(2).standard_normal(W.padded_shape)
    p = W(W.T(c))
    assert np.allclose(W(W.T(p)), p, atol=1e-12)  # idempotent
    assert not np.allclose(p, c)  # a proper projection: the padded samples are lost
    assert np.linalg.norm(p) <= np.linalg.norm(c)


@pytest.mark.filterwarnings("ignore:Level value")
def test_matches_pywavelets_on_divisible_shapes():
    x = np.random.default_rng(3).standard_normal((16, 8))
    expected, _ = pywt.coeffs_to_array(pywt.wavedecn(x, "sym4", mode="periodization", level=2))
    assert np.allclose(Wavelet(x.shape, "sym4", levels=2)(x), expected)


def test_constant_image_has_no_detail_coefficients():
    shape, levels = (8, 16), 3
    c = Wavelet(shape, "db3", levels=levels)(np.full(shape, 2.0))
    block = tuple(n // 2**levels for n in shape)
    approx = c[tuple(slice(0, m) for m in block)]
    # each level's lowpass filter sums to sqrt(2) per axis
    assert np.allclose(approx, 2.0 * np.sqrt(2.0) ** (levels * len(shape)))
    c[tuple(slice(0, m) for m in block)] = 0
    assert np.allclose(c, 0, atol=1e-12)


def test_dtype_is_preserved():
    W = Wavelet((9, 6), "db2")
    x = np.ones((9, 6), dtype=np.float32)
    assert W(x).dtype == np.float32 and W.T(W(x)).dtype == np.float32


def test_default_levels():
    assert Wavelet((64, 64), "db2").levels == pywt.dwtn_max_level((64, 64), "db2")
    assert Wavelet((5, 6), "db4").levels == 1  # pywt's maximum is 0 for such a small image


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(wavelet="bior2.2"), "wavelet must be orthogonal, got 'bior2.2'"),
        (dict(wavelet="nope"), "wavelet must be a discrete pywavelets wavelet name, got 'nope'"),
        (dict(wavelet="mexh"), "wavelet must be a discrete"),
        (dict(mode="symmetric"), "mode must be 'periodization'.*got 'symmetric'"),
        (dict(levels=0), "levels must be an int >= 1, got 0"),
        (dict(levels=1.5), "levels must be an int >= 1, got 1.5"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Wavelet((8, 8), **kwargs)
